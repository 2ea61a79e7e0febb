// The kafka exporter's and receiver's config: the Collector's defaults, both topic forms (the
// per-signal one and the deprecated top-level topic/encoding), and the messages for what Sonde
// does not support.
import * as assert from 'node:assert/strict';
import { configSchema as exporterSchema, validate as validateExporter, type KafkaExporterConfig } from '../../exporters/kafka/config';
import { readConfig, type ConfigIssue } from '../../pipeline/config/schema';
import { effectiveTls, encodingFor, topicFor } from '../../pipeline/kafka/config';
import { clientOptions } from '../../pipeline/kafka/options';
import { silentLogger } from '../../pipeline/logger';
import { rangeAssign } from '../../pipeline/kafka/range-assigner';
import { snappyCompress, snappyDecompress } from '../../pipeline/kafka/snappy';
import * as snappy from 'snappy';
import { configSchema as receiverSchema, validate as validateReceiver, type KafkaReceiverConfig } from '../../receivers/kafka/config';

function exporter(raw: unknown): { config: KafkaExporterConfig; issues: string[] } {
  const { value, issues } = readConfig(exporterSchema, raw);
  return { config: value, issues: [...issues, ...validateExporter(value)].map(show) };
}
function receiver(raw: unknown): { config: KafkaReceiverConfig; issues: string[] } {
  const { value, issues } = readConfig(receiverSchema, raw);
  return { config: value, issues: [...issues, ...validateReceiver(value)].map(show) };
}
const show = (i: ConfigIssue): string => `${i.severity} ${i.path.join('.')}: ${i.message}`;

describe('kafka config', () => {
  it('has the Collector defaults (client_id and the receiver group stated in README)', () => {
    const { config: e, issues } = exporter({});
    assert.deepEqual(issues, []);
    assert.deepEqual(e.brokers, ['localhost:9092']);
    assert.equal(e.client_id, 'sonde');
    assert.equal(e.producer.max_message_bytes, 1_000_000);
    assert.equal(e.producer.required_acks, 1);
    assert.equal(e.producer.compression, 'none');
    assert.equal(e.timeout, 5000);
    assert.equal(e.partition_traces_by_id, false);
    assert.equal(e.partition_traces_by_connection, false);
    assert.deepEqual(['traces', 'metrics', 'logs'].map((s) => topicFor(e, s as 'traces')), ['otlp_spans', 'otlp_metrics', 'otlp_logs']);
    assert.equal(encodingFor(e, 'traces'), 'otlp_proto');
    const { config: r, issues: ri } = receiver({});
    assert.deepEqual(ri, []);
    assert.equal(r.group_id, 'otel-collector');
    assert.equal(r.initial_offset, 'latest');
    assert.equal(r.session_timeout, 10_000);
    assert.equal(r.heartbeat_interval, 3000);
    assert.equal(r.group_rebalance_strategy, 'range');
  });

  it('reads the per-signal form', () => {
    const { config, issues } = receiver({ traces: { topic: 'spans', encoding: 'otlp_json' }, logs: { topic: 'l' } });
    assert.deepEqual(issues, []);
    assert.equal(topicFor(config, 'traces'), 'spans');
    assert.equal(encodingFor(config, 'traces'), 'otlp_json');
    assert.equal(topicFor(config, 'logs'), 'l');
    assert.equal(encodingFor(config, 'logs'), 'otlp_proto');
    assert.equal(topicFor(config, 'metrics'), 'otlp_metrics');
  });

  it('accepts the older top-level topic and encoding with a deprecation warning; the per-signal keys win', () => {
    const { config, issues } = exporter({ topic: 'all', encoding: 'otlp_json', metrics: { topic: 'm' } });
    assert.deepEqual(issues, [
      'warning topic: "topic" is deprecated, use traces.topic, metrics.topic and logs.topic',
      'warning encoding: "encoding" is deprecated, use traces.encoding, metrics.encoding and logs.encoding',
    ]);
    assert.equal(topicFor(config, 'traces'), 'all');
    assert.equal(topicFor(config, 'metrics'), 'm');
    assert.equal(encodingFor(config, 'logs'), 'otlp_json');
  });

  it('names the Collector encodings and compressions Sonde does not implement', () => {
    assert.deepEqual(exporter({ traces: { encoding: 'jaeger_proto' }, producer: { compression: 'zstd' } }).issues, [
      'error traces.encoding: encoding "jaeger_proto" is not supported by Sonde; use otlp_proto or otlp_json',
      'error producer.compression: "zstd" is not supported by Sonde\'s kafka client; use none, gzip or snappy',
    ]);
    assert.deepEqual(exporter({ encoding: 'protobuf' }).issues.filter((i) => i.startsWith('error')), ['error encoding: expected one of otlp_proto, otlp_json, got "protobuf"']);
    assert.deepEqual(receiver({ group_rebalance_strategy: 'sticky' }).issues, [
      'error group_rebalance_strategy: "sticky" is not supported by Sonde\'s Kafka client; use range or roundrobin',
    ]);
  });

  it('reads brokers as a list or one comma-separated string (an env variable)', () => {
    assert.deepEqual(exporter({ brokers: 'a:9092, b:9093' }).config.brokers, ['a:9092', 'b:9093']);
    assert.deepEqual(exporter({ brokers: ['a:9092', 'nope'] }).issues, ['error brokers.1: expected host:port, got "nope"']);
  });

  it('reads auth.sasl and both places of tls (auth.tls deprecated)', () => {
    const { config, issues } = exporter({ auth: { sasl: { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p$x' }, tls: { ca_file: '/ca.pem' } } });
    assert.deepEqual(issues, ['warning auth.tls: "auth.tls" is deprecated, use "tls"']);
    assert.equal(config.auth?.sasl?.mechanism, 'scram-sha-512');
    assert.equal(effectiveTls(config)?.ca_file, '/ca.pem');
    assert.equal(effectiveTls(exporter({ tls: { insecure: true } }).config), undefined, 'insecure: true is plaintext');
    assert.equal(effectiveTls(exporter({}).config), undefined);
    assert.deepEqual(exporter({ auth: { sasl: { mechanism: 'GSSAPI', username: 'u', password: 'p' } } }).issues,
      ['error auth.sasl.mechanism: expected one of plain, scram-sha-256, scram-sha-512, got "GSSAPI"']);
  });

  it('turns tls, auth.sasl and metadata into the client options', async () => {
    const { config } = exporter({
      brokers: ['k1:9093'], client_id: 'agent-1', tls: { ca_pem: 'CA', insecure_skip_verify: true, server_name_override: 'kafka.local', min_version: '1.3' },
      auth: { sasl: { mechanism: 'PLAIN', username: 'u', password: 'secret' } }, metadata: { retry: { max: 5, backoff: '100ms' } },
    });
    const opts = await clientOptions(config, silentLogger);
    assert.deepEqual({ ...opts, logger: undefined }, {
      brokers: ['k1:9093'], clientId: 'agent-1', retries: 5, retryBackoffMs: 100, metadataMaxAgeMs: 600_000, logger: undefined,
      tls: { ca: Buffer.from('CA'), rejectUnauthorized: false, servername: 'kafka.local', minVersion: 'TLSv1.3' },
      sasl: { mechanism: 'plain', username: 'u', password: 'secret' },
    });
    await assert.rejects(clientOptions(exporter({ tls: { ca_file: '/nonexistent/ca.pem' } }).config, silentLogger), /read ca_file \/nonexistent\/ca.pem: ENOENT/);
  });

  it('accepts Collector keys Sonde ignores, with a warning saying so', () => {
    assert.deepEqual(receiver({ autocommit: { enable: true }, message_marking: { after: true } }).issues, [
      'warning autocommit: "autocommit" is ignored: offsets are committed after the pipeline accepted each message',
      'warning message_marking: "message_marking" is ignored: messages are marked after the pipeline accepted them; a permanent error is counted and skipped, a retryable one retried',
    ]);
    assert.equal(exporter({ protocol_version: '2.0.0' }).issues.length, 1);
  });
});

describe('kafka range assignment', () => {
  it('gives sorted members consecutive runs, the first ones one more', () => {
    assert.deepEqual([...rangeAssign(['b', 'a'], [3, 1, 0, 2])], [['a', [0, 1]], ['b', [2, 3]]]);
    assert.deepEqual([...rangeAssign(['a', 'b', 'c'], [0, 1, 2, 3])], [['a', [0, 1]], ['b', [2]], ['c', [3]]]);
    assert.deepEqual([...rangeAssign(['a', 'b', 'c'], [0])], [['a', [0]], ['b', []], ['c', []]]);
  });
});

describe('kafka snappy', () => {
  it('round-trips raw blocks and reads the Java producer\'s xerial framing', () => {
    const data = Buffer.from('otlp '.repeat(10_000));
    assert.deepEqual(snappyDecompress(snappyCompress(data)), data);
    const a = snappy.compressSync(data.subarray(0, 20_000));
    const b = snappy.compressSync(data.subarray(20_000));
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    const len = (n: number): Buffer => { const x = Buffer.alloc(4); x.writeUInt32BE(n); return x; };
    assert.deepEqual(snappyDecompress(Buffer.concat([header, len(a.length), a, len(b.length), b])), data);
  });
});
