// The Java client's default partitioner (murmur2 of the key, positive, modulo the partition
// count; round-robin over available partitions for messages without a key), as kafkajs'
// DefaultPartitioner computes it but in 32-bit integer arithmetic: kafkajs' murmur2 goes through
// 64-bit Long objects, ~10 allocations per 4 key bytes, which with one message per trace was
// about a tenth of the exporter's CPU. Same partition for every key (test/unit/kafka-partitioner.test.ts).
import { randomBytes } from 'node:crypto';
import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

const toPositive = (x: number): number => x & 0x7fffffff;

export const javaPartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }: PartitionerArgs): number => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const numPartitions = partitionMetadata.length;
    const key = message.key;
    if (key !== null && key !== undefined) {
      return toPositive(murmur2(typeof key === 'string' ? Buffer.from(key) : key)) % numPartitions;
    }
    let counter = counters.get(topic) ?? randomBytes(4).readUInt32BE(0);
    counters.set(topic, ++counter);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    if (available.length > 0) return available[toPositive(counter) % available.length]!.partitionId;
    // No partition has a leader: a non-available one (the send fails and is retried).
    return toPositive(counter) % numPartitions;
  };
};
