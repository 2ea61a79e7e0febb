// The "range" partition assignment of the Java client and sarama (the Collector's default
// group_rebalance_strategy): per topic, sorted member ids get consecutive runs of partitions,
// the first ones one more when the division is uneven. Same protocol name and metadata encoding
// as those clients, so a group may mix them.
import { AssignerProtocol, type Assigner, type PartitionAssigner } from 'kafkajs';

/** Partitions of each member for one topic: pure, for tests. */
export function rangeAssign(memberIds: readonly string[], partitions: readonly number[]): Map<string, number[]> {
  const members = [...memberIds].sort();
  const sorted = [...partitions].sort((a, b) => a - b);
  const out = new Map<string, number[]>();
  if (members.length === 0) return out;
  const per = Math.floor(sorted.length / members.length);
  const extra = sorted.length % members.length;
  members.forEach((id, i) => {
    const start = i * per + Math.min(i, extra);
    out.set(id, sorted.slice(start, start + per + (i < extra ? 1 : 0)));
  });
  return out;
}

export const rangeAssigner: PartitionAssigner = ({ cluster }): Assigner => ({
  name: 'range',
  version: 0,
  protocol({ topics }) {
    return { name: 'range', metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
  },
  async assign({ members, topics }) {
    const subscribed = new Map(members.map((m) => [m.memberId, AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.topics ?? topics]));
    const plan = new Map<string, Record<string, number[]>>(members.map((m) => [m.memberId, {}]));
    for (const topic of topics) {
      const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
      const who = members.map((m) => m.memberId).filter((id) => subscribed.get(id)!.includes(topic));
      for (const [id, parts] of rangeAssign(who, partitions)) if (parts.length > 0) plan.get(id)![topic] = parts;
    }
    return members.map((m) => ({
      memberId: m.memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: plan.get(m.memberId)!, userData: Buffer.alloc(0) }),
    }));
  },
});
