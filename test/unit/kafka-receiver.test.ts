// The kafka receiver's own logic over the client interface: after a crash the Kafka client will
// not restart from, the receiver joins again with a new consumer (a gateway must not silently
// stop reading), and shutdown stops whichever consumer is current.
import * as assert from 'node:assert/strict';
import type { BatchHandler, ConsumerOptions, KafkaClient, KafkaConsumer } from '../../pipeline/kafka/client';
import { readConfig } from '../../pipeline/config/schema';
import { configSchema } from '../../receivers/kafka/config';
import { KafkaReceiver } from '../../receivers/kafka/receiver';
import { RecordingTelemetry, testHost, testSettings } from '../helpers/component-harness';
import { waitFor } from '../helpers/sonde-process';

class ScriptedConsumer implements KafkaConsumer {
  started = false;
  stopped = false;
  constructor(readonly opts: ConsumerOptions) {}
  async start(_h: BatchHandler): Promise<void> { this.started = true; }
  async stop(): Promise<void> { this.stopped = true; }
}

describe('kafka receiver (client interface)', () => {
  it('joins again with a new consumer after a crash the client does not restart from', async () => {
    const consumers: ScriptedConsumer[] = [];
    const client: KafkaClient = {
      producer: () => { throw new Error('not used'); },
      consumer: (opts) => { const c = new ScriptedConsumer(opts); consumers.push(c); return c; },
    };
    const { value } = readConfig(configSchema, { traces: { topic: 't' }, group_id: 'g' });
    const r = new KafkaReceiver(testSettings(new RecordingTelemetry(), 'kafka', 'receiver'), value, { traces: { async consume() {} } }, () => client);
    await r.start(testHost);
    await waitFor(() => consumers[0]?.started === true, 5000, 'the first consumer');
    assert.deepEqual(consumers[0]!.opts.topics, ['t']);
    assert.equal(consumers[0]!.opts.groupId, 'g');
    consumers[0]!.opts.onCrash!(new Error('SyncGroup: unknown server error'), true);
    await new Promise((res) => setTimeout(res, 800));
    assert.equal(consumers.length, 1, 'the client restarts by itself: nothing to do');
    consumers[0]!.opts.onCrash!(new Error('SyncGroup: unknown server error'), false);
    await waitFor(() => consumers[1]?.started === true, 5000, 'a second consumer');
    assert.equal(consumers[0]!.stopped, true);
    await r.shutdown();
    assert.equal(consumers[1]!.stopped, true);
    assert.equal(consumers.length, 2);
  });

  it('refuses two signals reading one topic, naming both', () => {
    const { value } = readConfig(configSchema, { topic: 'same' });
    const noop = { async consume() {} };
    assert.throws(() => new KafkaReceiver(testSettings(new RecordingTelemetry(), 'kafka', 'receiver'), value, { traces: noop, logs: noop }),
      /kafka: traces and logs both read topic "same"/);
  });
});
