// Sonde's partitioner puts every message where kafkajs' DefaultPartitioner (the Java client's
// murmur2 rule) would: the same key, the same partition, whichever client produced it.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { murmur2, javaPartitioner } from '../../pipeline/kafka/partitioner';

const metadata = (n: number, down: number[] = []): PartitionMetadata[] =>
  Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: down.includes(i) ? -1 : 1, replicas: [1], isr: [1], offlineReplicas: [], partitionErrorCode: 0 }));

describe('kafka partitioner', () => {
  it('murmur2 matches the Java client on its published test vectors', () => {
    // org.apache.kafka.common.utils.UtilsTest#testMurmur2
    const cases: [string, number][] = [['21', -973932308], ['foobar', -790332482], ['a-little-bit-long-string', -985981536], ['a-little-bit-longer-string', -1486304829], ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971], ['abc', 479470107]];
    for (const [key, want] of cases) assert.equal(murmur2(Buffer.from(key)), want, key);
  });

  it('chooses the partition kafkajs DefaultPartitioner chooses for every key', () => {
    const ours = javaPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 5000; i++) {
      const key = i % 3 === 0 ? randomBytes(16).toString('hex') : randomBytes(i % 41);
      const partitionMetadata = metadata(1 + (i % 9), i % 5 === 0 ? [0] : []);
      const args = { topic: 't', partitionMetadata, message: { key, value: null } };
      assert.equal(ours(args), theirs(args), `key ${key.toString()}`);
    }
  });

  it('keeps an explicit partition and spreads keyless messages round-robin over partitions with a leader', () => {
    const p = javaPartitioner();
    assert.equal(p({ topic: 't', partitionMetadata: metadata(4), message: { key: 'k', value: null, partition: 3 } }), 3);
    const seen = Array.from({ length: 8 }, () => p({ topic: 't', partitionMetadata: metadata(4, [2]), message: { value: null } }));
    assert.ok(!seen.includes(2), 'never the partition without a leader');
    for (let i = 1; i < seen.length; i++) assert.equal(seen[i], [0, 1, 3][([0, 1, 3].indexOf(seen[i - 1]!) + 1) % 3]);
  });
});
