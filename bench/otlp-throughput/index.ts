// bench/otlp-throughput: spans/s through a real Sonde process (OTLP gRPC in -> batch -> OTLP
// gRPC out), pinned to one core, fed pre-encoded 1000-span requests from this process (pinned
// to the other core), which also runs the sink that counts what comes out. Baseline, in the same
// run: decoding and re-encoding the same payloads with the same protobuf code in one process,
// with nothing else (the ceiling for any pipeline built on this codec). Details also carry a codec
// micro-bench (the hand-written codec Sonde uses against protobufjs over the same schema, same
// payloads) and this process's own CPU, which says when the sender/sink side is the limit.
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import Long from 'long';
import { codecs } from '../../pipeline/otlp/codec';
import { otlpType } from '../../pipeline/otlp/schema';
import { otlpGrpcRawServices, otlpGrpcServiceNames } from '../../pipeline/otlp/grpc';
import type { KeyValue, Span, TracesData } from '../../pipeline/pdata';
import { freePort, startSonde } from '../../test/helpers/sonde-process';
import { countSpans } from '../wire';

const SPANS_PER_REQUEST = 1000;
const DISTINCT_PAYLOADS = 20;
const MEASURED_REQUESTS = Number(process.env.BENCH_REQUESTS ?? 400);
// More spans in flight than one batch holds: callers wait for their export, so fewer would
// leave every batch to its timeout instead of its size.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 4096);
// A one-core agent's Node flags: GC on the main thread (helper threads would only contend for the
// same core) and a young generation large enough for a batch's short-lived objects.
const SONDE_NODE_ARGS = (process.env.BENCH_SONDE_NODE_ARGS ?? '--single-threaded-gc --max-semi-space-size=64').split(' ').filter(Boolean);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 1);

function payload(seed: number): Uint8Array {
  const now = Long.fromNumber(Date.now(), true).multiply(1_000_000);
  const attr = (key: string, v: string | number): KeyValue => ({ key, value: typeof v === 'string' ? { stringValue: v } : { intValue: v } });
  const spans: Span[] = [];
  for (let i = 0; i < SPANS_PER_REQUEST; i++) {
    const id = Buffer.alloc(16); id.writeUInt32BE(seed, 0); id.writeUInt32BE(i, 12);
    const sid = Buffer.alloc(8); sid.writeUInt32BE(i + 1, 4);
    spans.push({
      traceId: id, spanId: sid, name: `GET /api/v1/items/${i % 50}`, kind: 2,
      startTimeUnixNano: now.add(i * 1000), endTimeUnixNano: now.add(i * 1000 + 250_000),
      attributes: [
        attr('http.request.method', 'GET'), attr('url.path', `/api/v1/items/${i % 50}`), attr('http.response.status_code', 200),
        attr('server.address', 'shop.local'), attr('server.port', 8080), attr('client.address', '10.0.0.7'),
        attr('network.peer.port', 40000 + (i % 1000)), attr('user_agent.original', 'bench/1.0'),
      ],
      events: [{ name: 'received', timeUnixNano: now.add(i * 1000 + 1000), attributes: [attr('bytes', 512)] }],
      links: [], status: { code: 1 },
    });
  }
  const data: TracesData = {
    resourceSpans: [{ resource: { attributes: [attr('service.name', 'bench'), attr('host.name', 'node-1')] }, scopeSpans: [{ scope: { name: 'bench', attributes: [] }, spans }] }],
  };
  return codecs.traces.encodeRequest(data);
}

function baseline(payloads: Uint8Array[], seconds: number): number {
  let spans = 0;
  const end = Date.now() + seconds * 1000;
  const t0 = process.hrtime.bigint();
  while (Date.now() < end) {
    for (const p of payloads) {
      const data = codecs.traces.decodeRequest(p);
      codecs.traces.encodeRequest(data);
      spans += SPANS_PER_REQUEST;
    }
  }
  return spans / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** spans/s of one codec step over the payloads for about `seconds`. */
function rate(payloads: Uint8Array[], seconds: number, step: (p: Uint8Array, i: number) => unknown): number {
  for (let i = 0; i < payloads.length; i++) step(payloads[i]!, i); // warm-up
  let spans = 0;
  let i = 0;
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < end) {
    step(payloads[i % payloads.length]!, i % payloads.length);
    i++;
    spans += SPANS_PER_REQUEST;
  }
  return Math.round(spans / (Number(process.hrtime.bigint() - t0) / 1e9));
}

/** The codec Sonde uses (hand-written) against protobufjs reflection over the same schema. */
function codecMicro(payloads: Uint8Array[]): Record<string, number> {
  const T = otlpType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  const fastDecoded = payloads.map((p) => codecs.traces.decodeRequest(p));
  const refDecoded = payloads.map((p) => T.decode(p));
  return {
    fast_decode: rate(payloads, 1, (p) => codecs.traces.decodeRequest(p)),
    protobufjs_decode: rate(payloads, 1, (p) => T.decode(p)),
    fast_encode: rate(payloads, 1, (_p, i) => codecs.traces.encodeRequest(fastDecoded[i]!)),
    protobufjs_encode: rate(payloads, 1, (_p, i) => T.encode(refDecoded[i]!).finish()),
  };
}

function pin(pid: number, cpu: number): boolean {
  try { execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' }); return true; } catch { return false; }
}

/**
 * Seconds the process's main thread spent runnable but waiting for a CPU (schedstat field 2): time
 * other threads (its own GC and compiler helpers, other work on the machine) took from Sonde's
 * core. Wall - main-thread CPU - this = the main thread really idle.
 */
function runqueueWaitSeconds(pid: number): number {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return NaN;
  }
}

/** CPU seconds of the whole process, or of its main (JavaScript) thread with `mainThread`. */
function cpuSeconds(pid: number, mainThread = false): number {
  const stat = fs.readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime in clock ticks (USER_HZ = 100)
}

class Sink {
  spans = 0;
  private readonly server = new grpc.Server();
  private waiters: { target: number; resolve: () => void }[] = [];

  async start(port: number): Promise<void> {
    this.server.addService(otlpGrpcRawServices.traces, {
      Export: (call: grpc.ServerUnaryCall<Uint8Array, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        this.spans += countSpans(call.request);
        this.waiters = this.waiters.filter((w) => (this.spans >= w.target ? (w.resolve(), false) : true));
        cb(null, undefined);
      },
    });
    await new Promise<void>((resolve, reject) => this.server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  }

  reached(target: number): Promise<void> {
    return this.spans >= target ? Promise.resolve() : new Promise((resolve) => this.waiters.push({ target, resolve }));
  }

  stop(): void { this.server.forceShutdown(); }
}

/** Unary Export calls spread over the clients' connections, CONCURRENCY of them in flight. */
async function send(clients: grpc.Client[], payloads: Uint8Array[], requests: number): Promise<void> {
  let next = 0;
  const worker = async (w: number): Promise<void> => {
    const client = clients[w % clients.length]!;
    while (next < requests) {
      const p = payloads[next++ % payloads.length]!;
      await new Promise<void>((resolve, reject) => {
        (client as unknown as { Export(req: Uint8Array, cb: (e: grpc.ServiceError | null) => void): void }).Export(p, (e) => (e ? reject(e) : resolve()));
      });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
}

async function main(): Promise<void> {
  const payloads = Array.from({ length: DISTINCT_PAYLOADS }, (_, i) => payload(i));
  const pinnedSelf = pin(process.pid, 1);
  const ceiling = baseline(payloads, 3);
  const micro = codecMicro(payloads);

  const sinkPort = await freePort();
  const inPort = await freePort();
  const sink = new Sink();
  await sink.start(sinkPort);
  const sonde = await startSonde(`
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:${inPort} } } }
processors:
  batch: { send_batch_size: ${BATCH_SIZE}, timeout: 200ms }
exporters:
  otlp: { endpoint: 127.0.0.1:${sinkPort}, tls: { insecure: true }, compression: none }
service:
  telemetry: { metrics: { level: basic, address: 127.0.0.1:${await freePort()} } }
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [otlp] }
`, { nodeArgs: SONDE_NODE_ARGS });
  const pid = sonde.child.pid!;
  const pinnedSonde = pin(pid, 0);
  const Client = grpc.makeGenericClientConstructor(otlpGrpcRawServices.traces, otlpGrpcServiceNames.traces);
  // BENCH_CONNECTIONS > 1 spreads the calls over that many connections (as many SDKs would);
  // measured: more data in flight, more GC, fewer spans/s (4: ~30K against ~48K for 1).
  const clients = Array.from({ length: CONNECTIONS }, () => new Client(`127.0.0.1:${inPort}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': -1, 'grpc.use_local_subchannel_pool': 1,
  }));
  try {
    // Warm-up: JIT, connections, buffers.
    await send(clients, payloads, 50);
    await sink.reached(50 * SPANS_PER_REQUEST);
    const start = sink.spans;
    const cpu0 = cpuSeconds(pid);
    const wait0 = runqueueWaitSeconds(pid);
    const main0 = cpuSeconds(pid, true);
    const self0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await send(clients, payloads, MEASURED_REQUESTS);
    await sink.reached(start + MEASURED_REQUESTS * SPANS_PER_REQUEST);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = cpuSeconds(pid) - cpu0;
    const waited = runqueueWaitSeconds(pid) - wait0;
    const mainCpu = cpuSeconds(pid, true) - main0;
    const self = process.cpuUsage(self0);
    const spans = MEASURED_REQUESTS * SPANS_PER_REQUEST;
    const rate = spans / seconds;
    const rss = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    console.log(JSON.stringify({
      bench: 'otlp-throughput',
      value: Math.round(rate),
      unit: 'spans/s',
      baseline: Math.round(ceiling),
      baseline_name: 'decode + re-encode of the same payloads with the same protobuf code, one process',
      ratio: Number((rate / ceiling).toFixed(3)),
      goal: '>= 50000 spans/s through the whole pipeline on one core',
      details: {
        spans, seconds: Number(seconds.toFixed(3)), spans_per_request: SPANS_PER_REQUEST, concurrency: CONCURRENCY, connections: CONNECTIONS, send_batch_size: BATCH_SIZE, sonde_node_args: SONDE_NODE_ARGS.join(' '),
        sonde_cpu_seconds: Number(cpu.toFixed(3)), spans_per_cpu_second: Math.round(spans / cpu),
        sonde_main_thread_cpu_seconds: Number(mainCpu.toFixed(3)),
        sonde_main_thread_runqueue_wait_seconds: Number(waited.toFixed(3)),
        sonde_peak_rss_mib: Math.round(rss / 1048576), pinned: pinnedSelf && pinnedSonde, node: process.version,
        received_by_sink: sink.spans - start,
        bench_process_cpu_seconds: Number(((self.user + self.system) / 1e6).toFixed(3)),
        codec_spans_per_s: micro,
      },
    }));
  } finally {
    for (const c of clients) c.close();
    await sonde.stop('SIGTERM');
    sink.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
