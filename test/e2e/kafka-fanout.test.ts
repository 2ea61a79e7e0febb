// Acceptance for Kafka fan-out, with real peers on loopback: an agent Sonde (otlp -> batch ->
// kafka exporter, keyed by trace id) writes into librdkafka's mock cluster (3 brokers, topics of
// 4 partitions); two gateway Sondes (kafka receiver in one consumer group -> batch -> file) read
// it. Every span must come out exactly once across the two files, each trace in one gateway,
// and kcat must read the raw messages as ExportTraceServiceRequests; with one gateway killed
// (SIGKILL) mid-run, every span must still come out at least once.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { codecs } from '../../pipeline/otlp/codec';
import { startKafkaMock, sendOtlpGrpc, spanRequests, type KafkaMock } from '../helpers/kafka-mock';
import { freePort, startSonde, tempDir, waitFor, type SondeProcess } from '../helpers/sonde-process';

const TOTAL = 100_000;
const TRACES = 10_000; // 10 spans per trace, spread over 10 requests
const PER_REQUEST = 1000;
const PARTITIONS = [0, 1, 2, 3];

interface Span { trace: string; span: string }

/** Spans in a file exporter's proto output (4-byte length + ExportTraceServiceRequest). */
function readSpans(file: string): Span[] {
  if (!fs.existsSync(file)) return [];
  const buf = fs.readFileSync(file);
  const out: Span[] = [];
  let pos = 0;
  while (pos + 4 <= buf.length) {
    const n = buf.readUInt32BE(pos);
    if (pos + 4 + n > buf.length) break; // a record being written
    const req = codecs.traces.decodeRequest(buf.subarray(pos + 4, pos + 4 + n));
    for (const rs of req.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) {
      out.push({ trace: Buffer.from(s.traceId!).toString('hex'), span: Buffer.from(s.spanId!).toString('hex') });
    }
    pos += 4 + n;
  }
  return out;
}

function agentYaml(brokers: string[], port: number, topic: string): string {
  return `
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:${port} } } }
processors:
  batch: { send_batch_size: 4096, timeout: 100ms }
exporters:
  kafka:
    brokers: [${brokers.join(', ')}]
    traces: { topic: ${topic} }
    partition_traces_by_id: true
    producer: { required_acks: -1, compression: snappy }
    retry_on_failure: { initial_interval: 200ms, max_elapsed_time: 0 }
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [kafka] }
`;
}

function gatewayYaml(brokers: string[], topic: string, group: string, file: string): string {
  return `
receivers:
  kafka:
    brokers: ${brokers.join(',')}
    group_id: ${group}
    initial_offset: earliest
    session_timeout: 6s
    heartbeat_interval: 1s
    traces: { topic: ${topic}, encoding: otlp_proto }
processors:
  batch: { send_batch_size: 4096, timeout: 100ms }
exporters:
  file: { path: ${file}, format: proto, flush_interval: 0 }
service:
  telemetry: { metrics: { level: none }, logs: { level: info } }
  pipelines:
    traces: { receivers: [kafka], processors: [batch], exporters: [file] }
`;
}

/** The partitions a gateway owns after its latest join, from its log. */
function owned(g: SondeProcess): number[] | undefined {
  const joins = g.stderr().split('\n').filter((l) => l.includes('kafka receiver joined group'));
  if (joins.length === 0) return undefined;
  const line = JSON.parse(joins[joins.length - 1]!) as { partitions: string };
  return line.partitions.split(';').flatMap((t) => (t.split(':')[1] ?? '').split(',').filter(Boolean).map(Number));
}

/** Both members joined the same generation: their partitions are disjoint and cover the topic. */
async function groupStable(gateways: SondeProcess[]): Promise<void> {
  const joins = (): string => gateways.map((g, i) => `gateway ${i}:\n${g.stderr().split('\n').filter((l) => /kafka|group/i.test(l)).join('\n')}`).join('\n');
  await waitFor(() => {
    const sets = gateways.map(owned);
    if (sets.some((s) => s === undefined || s.length === 0)) return false;
    const all = sets.flatMap((s) => s!).sort();
    return JSON.stringify(all) === JSON.stringify(PARTITIONS);
  }, 60_000, 'both gateways to own disjoint partitions covering the topic').catch((err: Error) => { throw new Error(`${err.message}\n${joins()}`); });
}

describe('e2e: agent -> kafka (mock cluster) -> two gateways in one group', function () {
  this.timeout(300_000);
  let mock: KafkaMock | undefined;
  const procs: SondeProcess[] = [];
  const requests = spanRequests(TOTAL, PER_REQUEST, TRACES);

  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
    await mock?.stop();
    mock = undefined;
  });

  async function setUp(topic: string): Promise<{ agentPort: number; files: string[]; gateways: SondeProcess[]; agent: SondeProcess }> {
    mock = await startKafkaMock(topic);
    const dir = tempDir('kafka-e2e-');
    const files = [path.join(dir, 'a.pb'), path.join(dir, 'b.pb')];
    const gateways = await Promise.all(files.map((f) => startSonde(gatewayYaml(mock!.brokers, topic, `group-${topic}`, f))));
    procs.push(...gateways);
    await groupStable(gateways);
    const agentPort = await freePort();
    const agent = await startSonde(agentYaml(mock.brokers, agentPort, topic));
    procs.push(agent);
    return { agentPort, files, gateways, agent };
  }

  it('delivers 100 000 spans exactly once, each trace to one gateway, as OTLP messages kcat can read', async () => {
    const topic = 'spans_once';
    const { agentPort, files, gateways, agent } = await setUp(topic);
    await sendOtlpGrpc(`127.0.0.1:${agentPort}`, requests);
    await waitFor(() => files.reduce((n, f) => n + readSpans(f).length, 0) >= TOTAL, 120_000, `${TOTAL} spans in the gateways' files`);
    // Room for a duplicate to show up before we count.
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(await agent.stop(), 0, agent.stderr());
    for (const g of gateways) assert.equal(await g.stop(), 0, g.stderr());
    for (const g of gateways) assert.doesNotMatch(g.stderr(), /"level":"error"/, g.stderr());

    const perGateway = files.map(readSpans);
    const seen = new Map<string, number>();
    for (const spans of perGateway) for (const s of spans) seen.set(s.span, (seen.get(s.span) ?? 0) + 1);
    assert.equal(seen.size, TOTAL, 'every span arrived');
    assert.deepEqual([...seen.values()].filter((n) => n !== 1), [], 'no span arrived twice');
    const where = new Map<string, Set<number>>();
    perGateway.forEach((spans, g) => { for (const s of spans) (where.get(s.trace) ?? where.set(s.trace, new Set()).get(s.trace)!).add(g); });
    assert.equal(where.size, TRACES);
    assert.deepEqual([...where].filter(([, gs]) => gs.size > 1).map(([t]) => t), [], 'every trace reached one gateway only');
    assert.ok(perGateway.every((spans) => spans.length > 0), `both gateways got spans: ${perGateway.map((s) => s.length).join(', ')}`);

    // What is in Kafka, read by kcat (librdkafka), not by our client.
    const raw = await mock!.readTopic(topic);
    let inTopic = 0;
    for (const m of raw) {
      const req = codecs.traces.decodeRequest(m.value);
      const ids = new Set<string>();
      for (const rs of req.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) { ids.add(Buffer.from(s.traceId!).toString('hex')); inTopic++; }
      assert.deepEqual([...ids], [m.key?.toString()], 'a message holds one trace, keyed by its hex id');
    }
    assert.equal(inTopic, TOTAL, 'the topic holds every span once');
    assert.deepEqual([...new Set(raw.map((m) => m.partition))].sort(), PARTITIONS, 'traces spread over every partition');
  });

  it('delivers every span at least once when a gateway is killed mid-run', async () => {
    const topic = 'spans_kill';
    const { agentPort, files, gateways, agent } = await setUp(topic);
    const sending = sendOtlpGrpc(`127.0.0.1:${agentPort}`, requests, 2);
    await waitFor(() => readSpans(files[1]!).length >= 5000, 120_000, 'the second gateway to have written some spans');
    gateways[1]!.child.kill('SIGKILL');
    await gateways[1]!.exited;
    await sending;
    await waitFor(() => {
      const ids = new Set<string>();
      for (const f of files) for (const s of readSpans(f)) ids.add(s.span);
      return ids.size >= TOTAL;
    }, 120_000, `all ${TOTAL} spans in the files after the kill`);
    assert.equal(await agent.stop(), 0, agent.stderr());
    assert.equal(await gateways[0]!.stop(), 0, gateways[0]!.stderr());
    const all = files.flatMap(readSpans);
    const ids = new Set(all.map((s) => s.span));
    assert.equal(ids.size, TOTAL);
    console.log(`      after SIGKILL: ${all.length} spans written for ${TOTAL} sent (${all.length - TOTAL} delivered twice)`);
    assert.deepEqual(owned(gateways[0]!)?.sort(), PARTITIONS, 'the survivor took every partition over');
  });
});
