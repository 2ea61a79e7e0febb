// bench/kafka-throughput: spans/s end to end through Sonde processes: OTLP/gRPC -> agent (otlp ->
// batch -> kafka exporter, keyed by trace id, snappy) -> librdkafka's mock cluster (3 brokers,
// 4 partitions) -> gateway (kafka receiver -> batch -> otlp exporter) -> a gRPC sink in this
// process that counts the spans. Baseline, in the same run: kafkajs alone producing the very
// messages the agent writes (same keys, same bytes, same compression) and a kafkajs consumer
// group reading them back, committing per batch (the ceiling of the Kafka client on this machine).
import * as grpc from '@grpc/grpc-js';
import { CompressionTypes, Kafka, logLevel, Partitioners } from 'kafkajs';
import { toMessages } from '../../exporters/kafka/exporter';
import '../../pipeline/kafka/kafkajs'; // registers snappy with kafkajs
import { codecs } from '../../pipeline/otlp/codec';
import { otlpGrpcRawServices } from '../../pipeline/otlp/grpc';
import { sendOtlpGrpc, spanRequests, startKafkaMock } from '../../test/helpers/kafka-mock';
import { freePort, startSonde, waitFor, type SondeProcess } from '../../test/helpers/sonde-process';
import { countSpans } from '../wire';

const SPANS_PER_REQUEST = 1000;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100);
const SPANS_PER_TRACE = Number(process.env.BENCH_SPANS_PER_TRACE ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const BY_ID = (process.env.BENCH_BY_ID ?? 'true') === 'true';
// The mock keeps ~5 MB per partition: compressed, a run's messages stay within it.
const COMPRESSION = 'snappy';
const TOTAL = REQUESTS * SPANS_PER_REQUEST;
/** Node flags for both Sonde processes (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof). */
const SONDE_NODE_ARGS = (process.env.BENCH_SONDE_NODE_ARGS ?? '').split(' ').filter(Boolean);

class Sink {
  spans = 0;
  private readonly server = new grpc.Server();
  async start(port: number): Promise<void> {
    this.server.addService(otlpGrpcRawServices.traces, {
      Export: (call: grpc.ServerUnaryCall<Uint8Array, unknown>, cb: grpc.sendUnaryData<unknown>) => { this.spans += countSpans(call.request); cb(null, undefined); },
    });
    await new Promise<void>((resolve, reject) => this.server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  }
  stop(): void { this.server.forceShutdown(); }
}

/** kafkajs alone: produce the agent's messages, read them back in a consumer group; spans/s. */
async function baseline(brokers: string[], requests: Uint8Array[]): Promise<{ rate: number; messages: number; bytes: number }> {
  const topic = 'bench_baseline';
  const messages = requests.flatMap((r) => toMessages('traces', codecs.traces.decodeRequest(r), 'otlp_proto', 1_000_000, { byId: BY_ID, byConnection: false }).messages);
  const spansIn = messages.map((m) => countSpans(m.value));
  const kafka = new Kafka({ brokers, clientId: 'bench', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: 'bench-baseline', maxWaitTimeInMs: 250 });
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let got = 0;
  await consumer.run({
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
      for (const m of batch.messages) { if (m.value) got += countSpans(m.value); resolveOffset(m.offset); }
      await commitOffsetsIfNecessary();
    },
  });
  // The same slicing as the agent's exporter sends: one produce call per agent-sized batch.
  const perCall = Math.max(1, Math.round(messages.length / requests.length));
  const t0 = process.hrtime.bigint();
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < messages.length; i += perCall) {
    inFlight.push(producer.send({ topic, acks: 1, compression: CompressionTypes.Snappy, messages: messages.slice(i, i + perCall) }));
    if (inFlight.length >= CONCURRENCY) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const want = spansIn.reduce((a, b) => a + b, 0);
  await waitFor(() => got >= want, 300_000, 'the baseline consumer to read every span');
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await Promise.all([producer.disconnect(), consumer.disconnect()]);
  return { rate: want / seconds, messages: messages.length, bytes: messages.reduce((n, m) => n + m.value.length + (m.key?.length ?? 0), 0) };
}

/** The kcat that holds the mock cluster (a child of this process): its CPU is the brokers'. */
function kcatPid(): number | undefined {
  const fs = require('node:fs') as typeof import('node:fs');
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === process.pid && stat.includes('(kcat)')) return Number(d);
    } catch { /* gone */ }
  }
  return undefined;
}

function cpuSeconds(pid: number): number {
  const stat = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8') as string;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function main(): Promise<void> {
  const requests = spanRequests(TOTAL, SPANS_PER_REQUEST, Math.max(1, Math.floor(TOTAL / SPANS_PER_TRACE)));
  const warm = spanRequests(10 * SPANS_PER_REQUEST, SPANS_PER_REQUEST, 1000);
  const topic = 'bench_spans';
  // Not started on `topic`: the kcat that holds the cluster would consume it too, on our cores.
  const mock = await startKafkaMock();
  const procs: SondeProcess[] = [];
  const sink = new Sink();
  try {
    const base = await baseline(mock.brokers, requests);
    const sinkPort = await freePort();
    await sink.start(sinkPort);
    const gateway = await startSonde(`
receivers:
  kafka: { brokers: "${mock.brokers.join(',')}", group_id: bench, initial_offset: earliest, traces: { topic: ${topic} } }
processors:
  batch: { send_batch_size: 8192, timeout: 200ms }
exporters:
  otlp: { endpoint: 127.0.0.1:${sinkPort}, tls: { insecure: true }, compression: none }
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    traces: { receivers: [kafka], processors: [batch], exporters: [otlp] }
`, { nodeArgs: SONDE_NODE_ARGS });
    procs.push(gateway);
    await waitFor(() => gateway.stderr().includes('kafka receiver joined group'), 60_000, 'the gateway to join its group');
    const agentPort = await freePort();
    const agent = await startSonde(`
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:${agentPort} } } }
processors:
  batch: { send_batch_size: 4096, timeout: 200ms }
exporters:
  kafka:
    brokers: [${mock.brokers.join(', ')}]
    traces: { topic: ${topic} }
    partition_traces_by_id: ${BY_ID}
    producer: { compression: ${COMPRESSION} }
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [kafka] }
`, { nodeArgs: SONDE_NODE_ARGS });
    procs.push(agent);
    await sendOtlpGrpc(`127.0.0.1:${agentPort}`, warm, CONCURRENCY);
    await waitFor(() => sink.spans >= warm.length * SPANS_PER_REQUEST, 120_000, 'the warm-up spans at the sink');
    const start = sink.spans;
    const kcat = kcatPid();
    const self0 = process.cpuUsage();
    const cpu0 = [cpuSeconds(agent.child.pid!), cpuSeconds(gateway.child.pid!), kcat ? cpuSeconds(kcat) : 0];
    const t0 = process.hrtime.bigint();
    await sendOtlpGrpc(`127.0.0.1:${agentPort}`, requests, CONCURRENCY);
    await waitFor(() => sink.spans - start >= TOTAL, 600_000, `${TOTAL} spans at the sink`);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = [cpuSeconds(agent.child.pid!) - cpu0[0]!, cpuSeconds(gateway.child.pid!) - cpu0[1]!, kcat ? cpuSeconds(kcat) - cpu0[2]! : NaN];
    const self = process.cpuUsage(self0);
    const rate = TOTAL / seconds;
    console.log(JSON.stringify({
      bench: 'kafka-throughput',
      value: Math.round(rate),
      unit: 'spans/s',
      baseline: Math.round(base.rate),
      baseline_name: 'kafkajs alone producing the same messages (keys, bytes, snappy) and reading them back in a consumer group',
      ratio: Number((rate / base.rate).toFixed(3)),
      goal: 'agent -> Kafka -> gateway within 2x of the bare Kafka client (ratio >= 0.5)',
      details: {
        spans: TOTAL, seconds: Number(seconds.toFixed(3)), spans_per_request: SPANS_PER_REQUEST, spans_per_trace: SPANS_PER_TRACE,
        partition_traces_by_id: BY_ID, compression: COMPRESSION, concurrency: CONCURRENCY, sonde_node_args: SONDE_NODE_ARGS.join(' '),
        kafka_messages: base.messages, kafka_bytes_uncompressed: base.bytes,
        agent_cpu_seconds: Number(cpu[0]!.toFixed(3)), gateway_cpu_seconds: Number(cpu[1]!.toFixed(3)),
        mock_brokers_cpu_seconds: Number(cpu[2]!.toFixed(3)), bench_process_cpu_seconds: Number(((self.user + self.system) / 1e6).toFixed(3)),
        received_by_sink: sink.spans - start, brokers: 'librdkafka mock cluster (kcat), 3 brokers, 4 partitions', node: process.version,
      },
    }));
  } finally {
    for (const p of procs.reverse()) await p.stop('SIGTERM');
    sink.stop();
    await mock.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
