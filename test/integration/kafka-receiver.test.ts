// The kafka receiver and exporter against librdkafka's mock cluster (real brokers on loopback),
// built directly so the pipeline's answers can be scripted: a retryable refusal pauses the
// partition and the same message comes again; a permanent one is counted and skipped; messages
// that are not OTLP are counted and skipped; offsets are committed only for what was accepted;
// the exporter splits oversize batches; kafkajs' log lines reach Sonde's logger.
import * as assert from 'node:assert/strict';
import { kafkaExporterFactory } from '../../exporters/kafka';
import type { Component, Consumer, SignalConsumers } from '../../pipeline/component';
import { readConfig } from '../../pipeline/config/schema';
import { PermanentError, RetryableError } from '../../pipeline/errors';
import { kafkajsClient } from '../../pipeline/kafka/kafkajs';
import type { LogFields, Logger } from '../../pipeline/logger';
import { silentLogger } from '../../pipeline/logger';
import { codecs } from '../../pipeline/otlp/codec';
import type { TracesData } from '../../pipeline/pdata';
import { kafkaReceiverFactory } from '../../receivers/kafka';
import { RecordingTelemetry, testHost, testSettings } from '../helpers/component-harness';
import { startKafkaMock, spanIds, spanRequests, type KafkaMock } from '../helpers/kafka-mock';
import { freePort, waitFor } from '../helpers/sonde-process';

/** Span numbers in a batch (spanIds() writes them into the span id). */
function spanNumbers(d: TracesData): number[] {
  return d.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => Buffer.from(x.spanId!).readUInt32BE(4))));
}

class RecordingLogger implements Logger {
  constructor(readonly lines: { level: string; msg: string; fields: LogFields }[] = [], private readonly base: LogFields = {}) {}
  debug(msg: string, f?: LogFields): void { this.lines.push({ level: 'debug', msg, fields: { ...this.base, ...f } }); }
  info(msg: string, f?: LogFields): void { this.lines.push({ level: 'info', msg, fields: { ...this.base, ...f } }); }
  warn(msg: string, f?: LogFields): void { this.lines.push({ level: 'warn', msg, fields: { ...this.base, ...f } }); }
  error(msg: string, f?: LogFields): void { this.lines.push({ level: 'error', msg, fields: { ...this.base, ...f } }); }
  with(f: LogFields): Logger { return new RecordingLogger(this.lines, { ...this.base, ...f }); }
}

describe('kafka receiver and exporter against the mock cluster', function () {
  this.timeout(120_000);
  let mock: KafkaMock;
  const running: Component[] = [];
  let n = 0;

  before(async () => { mock = await startKafkaMock(); });
  after(async () => { await mock.stop(); });
  afterEach(async () => { for (const c of running.splice(0)) await c.shutdown(); });

  /** Raw messages into a topic, through the client interface (one message each, unkeyed). */
  async function produce(topic: string, values: Uint8Array[]): Promise<void> {
    const p = kafkajsClient({ brokers: mock.brokers, clientId: 'test', retries: 3, retryBackoffMs: 100, metadataMaxAgeMs: 60_000, logger: silentLogger })
      .producer({ acks: -1, compression: 'none', timeoutMs: 5000, allowAutoTopicCreation: true });
    await p.send(topic, values.map((v) => ({ key: null, value: Buffer.from(v) })));
    await p.disconnect();
  }

  async function receive(topic: string, group: string, consumer: Consumer<TracesData>, telemetry = new RecordingTelemetry(), logger: Logger = silentLogger): Promise<RecordingTelemetry> {
    const { value, issues } = readConfig(kafkaReceiverFactory.config, {
      brokers: mock.brokers, group_id: group, initial_offset: 'earliest', session_timeout: '6s', heartbeat_interval: '1s',
      traces: { topic }, error_backoff: { initial_interval: '50ms', max_interval: '200ms' },
    });
    assert.deepEqual(issues, []);
    const r = kafkaReceiverFactory.create(testSettings(telemetry, 'kafka', 'receiver', logger), value, { traces: consumer } as SignalConsumers);
    running.push(r);
    await r.start(testHost);
    return telemetry;
  }

  it('pauses on a retryable refusal and delivers the same message again; commits only what was accepted', async () => {
    const topic = `bp_${n++}`;
    await produce(topic, spanRequests(40, 10, 40)); // 4 messages of 10 spans
    const got: number[][] = [];
    let refusals = 0;
    const t = await receive(topic, `g-${topic}`, {
      async consume(d) {
        const ids = spanNumbers(d);
        if (ids[0] === 10 && refusals < 3) { refusals++; throw new RetryableError('memory limit'); }
        got.push(ids);
      },
    });
    await waitFor(() => got.length >= 4, 60_000, 'four messages accepted');
    assert.equal(refusals, 3);
    assert.deepEqual(got.map((g) => g[0]).filter((x) => x === 10), [10], 'the refused message was accepted once');
    assert.deepEqual([...new Set(got.flat())].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
    assert.equal(t.total('refused', 'traces'), 30);
    assert.ok(t.total('accepted', 'traces') >= 40);
    await running.pop()!.shutdown();
    // The same group again: everything was committed, nothing comes back.
    const again: number[] = [];
    await receive(topic, `g-${topic}`, { async consume(d) { again.push(...spanNumbers(d)); } });
    const marker = { ...spanIds(99, 1), name: 'marker', kind: 1, attributes: [], events: [], links: [] };
    await produce(topic, [codecs.traces.encodeRequest({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: [marker] }] }] })]);
    await waitFor(() => again.length > 0, 60_000, 'the marker message');
    assert.deepEqual(again, [99], 'only the new message: the earlier ones were committed');
  });

  it('counts and skips a permanent refusal and messages that are not OTLP, and carries on', async () => {
    const topic = `perm_${n++}`;
    const [a, b, c] = spanRequests(30, 10, 30);
    await produce(topic, [a!, Buffer.from('not a protobuf request \xff\xff'), b!, new Uint8Array(0), c!]);
    const got: number[] = [];
    const t = await receive(topic, `g-${topic}`, {
      async consume(d) {
        const ids = spanNumbers(d);
        if (ids[0] === 10) throw new PermanentError('bad span');
        got.push(...ids);
      },
    });
    // Unkeyed messages spread over partitions: no order between them.
    await waitFor(() => got.length >= 20 && t.countOf('malformed_messages') >= 2 && t.calls.some((c) => c.what === 'dropped'), 60_000, 'every message handled');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(got.sort((x, y) => x - y), [...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => i + 20)]);
    assert.equal(t.calls.filter((c) => c.what === 'dropped' && c.reason === 'permanent_error').reduce((s, c) => s + c.items, 0), 10);
    assert.equal(t.countOf('malformed_messages', { signal: 'traces', topic }), 2);
  });

  it('logs its group membership, and kafkajs log lines go to Sonde\'s logger', async () => {
    const topic = `log_${n++}`;
    const logger = new RecordingLogger();
    await receive(topic, `g-${topic}`, { async consume() {} }, new RecordingTelemetry(), logger);
    await waitFor(() => logger.lines.some((l) => l.msg === 'kafka receiver joined group'), 60_000, 'the join line');
    const join = logger.lines.find((l) => l.msg === 'kafka receiver joined group')!;
    assert.equal(join.fields['partitions'], `${topic}:0,1,2,3`);
    assert.ok(logger.lines.some((l) => typeof l.fields['kafka_client'] === 'string'), 'kafkajs lines arrive through the logger');
    // A cluster that is not there: start still succeeds, the trouble is one warning line.
    const closed = await freePort();
    const quiet = new RecordingLogger();
    const { value } = readConfig(kafkaReceiverFactory.config, { brokers: [`127.0.0.1:${closed}`], metadata: { retry: { max: 0, backoff: '50ms' } } });
    const r = kafkaReceiverFactory.create(testSettings(new RecordingTelemetry(), 'kafka/down', 'receiver', quiet), value, { traces: { async consume() {} } });
    running.push(r);
    await r.start(testHost);
    await waitFor(() => quiet.lines.some((l) => l.msg.startsWith('kafka receiver cannot join')), 30_000, 'the join warning');
  });

  it('exporter: splits a batch over max_message_bytes, drops and counts only a span too big alone', async () => {
    const topic = `exp_${n++}`;
    const telemetry = new RecordingTelemetry();
    const { value, issues } = readConfig(kafkaExporterFactory.config, {
      brokers: mock.brokers, traces: { topic, encoding: 'otlp_json' }, producer: { max_message_bytes: 4096, compression: 'gzip', required_acks: -1 },
      sending_queue: { enabled: false }, retry_on_failure: { initial_interval: '100ms' },
    });
    assert.deepEqual(issues, []);
    const e = kafkaExporterFactory.create(testSettings(telemetry, 'kafka', 'exporter'), value, ['traces']);
    running.push(e);
    await e.start(testHost);
    const data = codecs.traces.decodeRequest(spanRequests(60, 60, 5)[0]!);
    data.resourceSpans[0]!.scopeSpans[0]!.spans[7]!.name = 'x'.repeat(10_000);
    await e.consumers.traces!.consume(data);
    assert.equal(telemetry.total('sent', 'traces'), 59);
    assert.equal(telemetry.calls.filter((c) => c.what === 'dropped').map((c) => `${c.items}:${c.reason}`).join(), '1:oversize');
    const raw = await mock.readTopic(topic);
    assert.ok(raw.length > 1 && raw.every((m) => m.value.length <= 4096), `${raw.length} messages`);
    const back = raw.flatMap((m) => spanNumbers(codecs.traces.decodeRequestJson(m.value))).sort((a, b) => a - b);
    assert.deepEqual(back, Array.from({ length: 60 }, (_, i) => i).filter((i) => i !== 7));
  });
});
