// Shared by the delivery tests (no tests of its own): an OTLP/gRPC backend that counts span ids
// (so duplicates and losses are exact), a raw OTLP/gRPC client that retries refusals as an SDK
// does, peak RSS from /proc, and a child "sonde" process with file_storage registered
// in-process (run as `node --require tsx/cjs queue-harness.test.ts CONFIG`) for tests that need
// the extension before components.ts lists it.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import Long from 'long';
import { factories } from '../../components';
import { fileStorageExtensionFactory } from '../../extensions/file_storage';
import { loadConfig, formatDiagnostic } from '../../pipeline/config/load';
import { JsonLogger } from '../../pipeline/logger';
import { codecs } from '../../pipeline/otlp/codec';
import { otlpGrpcRawServices, type ExportResponse } from '../../pipeline/otlp/grpc';
import type { TracesData } from '../../pipeline/pdata';
import { Registry } from '../../pipeline/registry';
import { Service } from '../../pipeline/service';
import { SelfTelemetry } from '../../pipeline/telemetry';

/** `n` spans numbered from `first`: the span id carries the number, so the backend can count. */
export function numberedSpans(first: number, n: number): TracesData {
  const spans = [];
  for (let i = 0; i < n; i++) {
    const spanId = Buffer.alloc(8);
    spanId.writeUInt32BE(first + i, 4);
    spans.push({
      traceId: Buffer.alloc(16, 7), spanId, name: 'delivery', kind: 2,
      startTimeUnixNano: Long.fromNumber(1_700_000_000_000_000_000, true), endTimeUnixNano: Long.fromNumber(1_700_000_000_001_000_000, true),
      attributes: [{ key: 'seq', value: { intValue: Long.fromNumber(first + i) } }], events: [], links: [],
    });
  }
  return { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'delivery-test' } }] }, scopeSpans: [{ spans }] }] };
}

/** A real OTLP/gRPC server (grpc-js + the codec) that counts every span id it receives. */
export class CountingBackend {
  private readonly seen = new Map<number, number>();
  total = 0;
  private server: grpc.Server | undefined;

  get unique(): number { return this.seen.size; }
  get duplicates(): number { return this.total - this.seen.size; }
  missing(expected: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < expected; i++) if (!this.seen.has(i)) out.push(i);
    return out;
  }

  async start(port: number): Promise<void> {
    const server = new grpc.Server({ 'grpc.max_receive_message_length': -1 });
    server.addService(otlpGrpcRawServices.traces, {
      Export: (call: grpc.ServerUnaryCall<Uint8Array, ExportResponse>, cb: grpc.sendUnaryData<ExportResponse>) => {
        const data = codecs.traces.decodeRequest(call.request);
        for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) {
          const id = Buffer.from(s.spanId!).readUInt32BE(4);
          this.seen.set(id, (this.seen.get(id) ?? 0) + 1);
          this.total++;
        }
        cb(null, { rejected: 0, message: '' });
      },
    });
    await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.tryShutdown(() => resolve()));
  }
}

export interface SendStats { requests: number; spans: number; refusals: number }

/**
 * Sends `total` spans in requests of `perRequest` over OTLP/gRPC, `concurrency` at a time, and
 * retries a refused request (UNAVAILABLE, RESOURCE_EXHAUSTED) after 100 ms, as an SDK would.
 * `pause` runs between requests (pacing).
 */
export async function sendSpans(address: string, total: number, perRequest: number, opts: { concurrency?: number; pauseMs?: number } = {}): Promise<SendStats> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const method = otlpGrpcRawServices.traces.Export as grpc.MethodDefinition<Uint8Array, ExportResponse | undefined>;
  const stats: SendStats = { requests: 0, spans: 0, refusals: 0 };
  let next = 0;
  const one = (body: Uint8Array): Promise<grpc.ServiceError | null> => new Promise((resolve) => {
    client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, body, new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (err) => resolve(err));
  });
  const worker = async (): Promise<void> => {
    while (next < total) {
      const first = next;
      const n = Math.min(perRequest, total - first);
      next += n;
      const body = codecs.traces.encodeRequest(numberedSpans(first, n));
      for (;;) {
        const err = await one(body);
        stats.requests++;
        if (!err) break;
        if (err.code !== grpc.status.UNAVAILABLE && err.code !== grpc.status.RESOURCE_EXHAUSTED) throw new Error(`send failed: ${err.message}`);
        stats.refusals++;
        await sleep(100);
      }
      stats.spans += n;
      if (opts.pauseMs) await sleep(opts.pauseMs);
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
  } finally {
    client.close();
  }
  return stats;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Peak resident set (VmHWM) of a live process, in MiB; undefined once it is gone. */
export function peakRssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

export interface ChildSonde {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The engine as a real child process, with file_storage registered (see the file comment). */
export async function startChildSonde(configYaml: string, dir: string): Promise<ChildSonde> {
  const file = path.join(dir, `sonde-${Date.now()}-${Math.random().toString(16).slice(2)}.yaml`);
  fs.writeFileSync(file, configYaml);
  const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), __filename, file], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SONDE_QUEUE_CHILD: '1' } });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child sonde not ready:\n${err}`)), 30_000);
    child.stderr!.on('data', () => { if (err.includes('everything is ready')) { clearTimeout(timer); resolve(); } });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`child sonde exited with ${code}:\n${err}`)); });
  });
  return {
    child, exited, stderr: () => err,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

async function runChild(configFile: string): Promise<number> {
  const all = factories.some((f) => f.type === fileStorageExtensionFactory.type) ? factories : [...factories, fileStorageExtensionFactory];
  const { config, diagnostics } = loadConfig([configFile], new Registry(all), process.env);
  for (const d of diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  if (!config) return 1;
  const logger = new JsonLogger(config.service.telemetry.logs.level);
  const buildInfo = { command: 'sonde', version: 'test' };
  const service = new Service({ config, logger, telemetry: new SelfTelemetry(config.service.telemetry, logger, buildInfo), buildInfo });
  await service.start();
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  return (await service.shutdown()) ? 0 : 1;
}

if (require.main === module && process.env.SONDE_QUEUE_CHILD === '1') {
  runChild(process.argv[2]!).then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`child sonde: ${String(err)}\n`);
    process.exit(1);
  });
}

// ---- scenarios, shared by the in-process-registry tests and the `sonde run` e2e tests --------

export type Launch = (configYaml: string, dir: string) => Promise<{ child: ChildProcess; stderr(): string; stop(signal?: NodeJS.Signals): Promise<number | null> }>;

export interface DeliveryFigures {
  scenario: string; sent: number; received: number; lost: number; duplicated: number; peak_rss_mib: number | undefined; [k: string]: unknown;
}

export function pipelineYaml(o: { receiverPort: number; backendPort: number; storageDir?: string; batch?: boolean }): string {
  const storage = o.storageDir ? `\nextensions:\n  file_storage/queue: { directory: ${o.storageDir} }\n` : '\n';
  return `${storage}receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${o.receiverPort} }
${o.batch ? 'processors:\n  batch: { send_batch_size: 1000, timeout: 200ms }\n' : ''}exporters:
  otlp:
    endpoint: 127.0.0.1:${o.backendPort}
    tls: { insecure: true }
    sending_queue: { ${o.storageDir ? 'storage: file_storage/queue, ' : ''}queue_size: 1000 }
    retry_on_failure: { initial_interval: 500ms, max_interval: 2s, max_elapsed_time: 0 }
service:
  ${o.storageDir ? 'extensions: [file_storage/queue]\n  ' : ''}telemetry: { metrics: { level: none } }
  pipelines:
    traces: { receivers: [otlp], ${o.batch ? 'processors: [batch], ' : ''}exporters: [otlp] }
`;
}

/** Polls until the predicate holds (no timing assertion: the deadline only ends a stuck test). */
export async function until(predicate: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting: ${what()}`);
    await sleep(100);
  }
}

/** Backend down for `outageMs` while `total` spans are sent, then up: everything, once. */
export async function outageScenario(launch: Launch, dir: string, ports: number[], total = 20_000, outageMs = 20_000): Promise<DeliveryFigures> {
  const [receiverPort, backendPort] = ports as [number, number];
  const sonde = await launch(pipelineYaml({ receiverPort, backendPort, batch: true }), dir);
  const backend = new CountingBackend();
  try {
    // Spans keep coming (4 senders, requests of 100, paced) while nothing listens on the
    // backend port; the backend starts outageMs after the first request, whether or not the
    // senders are done by then.
    const sending = sendSpans(`127.0.0.1:${receiverPort}`, total, 100, { concurrency: 4, pauseMs: 100 });
    await sleep(outageMs);
    const sentDuringOutage = (await Promise.race([sending.then((s) => s.spans), sleep(0).then(() => -1)]));
    await backend.start(backendPort);
    const stats = await sending;
    await until(() => backend.unique >= total, 120_000, () => `${backend.unique} of ${total} spans arrived`);
    const rss = peakRssMiB(sonde.child.pid);
    await sonde.stop('SIGTERM');
    return { scenario: 'backend down 20 s', sent: total, received: backend.unique, lost: total - backend.unique, duplicated: backend.duplicates, peak_rss_mib: rss, client_refusals: stats.refusals, all_sent_during_outage: sentDuringOutage === total };
  } finally {
    await sonde.stop('SIGKILL');
    await backend.stop();
  }
}

/** SIGKILL with `total` spans queued on disk for a dead backend; restart; backend up. */
export async function killScenario(launch: Launch, dir: string, ports: number[], total = 50_000): Promise<DeliveryFigures> {
  const [receiverPort, backendPort] = ports as [number, number];
  const yaml = pipelineYaml({ receiverPort, backendPort, storageDir: path.join(dir, 'queue') });
  const backend = new CountingBackend();
  const first = await launch(yaml, dir);
  let rss1: number | undefined;
  try {
    await sendSpans(`127.0.0.1:${receiverPort}`, total, 100, { concurrency: 4 });
    rss1 = peakRssMiB(first.child.pid);
  } finally {
    await first.stop('SIGKILL');
  }
  const second = await launch(yaml, dir);
  try {
    await backend.start(backendPort);
    await until(() => backend.unique >= total, 120_000, () => `${backend.unique} of ${total} spans arrived after the restart`);
    await sleep(500); // let a late duplicate show up before counting
    const rss2 = peakRssMiB(second.child.pid);
    await second.stop('SIGTERM');
    return {
      scenario: 'SIGKILL with a persistent queue', sent: total, received: backend.unique, lost: total - backend.unique, duplicated: backend.duplicates,
      peak_rss_mib: Math.max(rss1 ?? 0, rss2 ?? 0), recovered_log: /persistent queue recovered/.test(second.stderr()),
    };
  } finally {
    await second.stop('SIGKILL');
    await backend.stop();
  }
}

/**
 * `records` batches of 100 spans queued on disk (backend dead), the process stopped, then one
 * record's payload flipped and the last record cut short: the next start skips those two
 * (a log line and dropped{corrupt_record}) and delivers the other records.
 */
export async function corruptScenario(launch: Launch, dir: string, ports: number[], records = 100): Promise<DeliveryFigures & { skippedLogged: boolean; droppedSummary: string; missingAsExpected: boolean }> {
  const [receiverPort, backendPort] = ports as [number, number];
  const queueDir = path.join(dir, 'queue');
  const yaml = pipelineYaml({ receiverPort, backendPort, storageDir: queueDir });
  const first = await launch(yaml, dir);
  try {
    await sendSpans(`127.0.0.1:${receiverPort}`, records * 100, 100, { concurrency: 1 });
  } finally {
    await first.stop('SIGKILL');
  }
  const segDir = path.join(queueDir, 'exporter_otlp', 'traces');
  const seg = path.join(segDir, fs.readdirSync(segDir).filter((f) => f.endsWith('.seg')).sort()[0]!);
  const bytes = fs.readFileSync(seg);
  // Records are framed: magic "SQR1" | length | crc | payload. Find record 10 and the last one.
  const starts: number[] = [];
  for (let pos = 0; pos < bytes.length; pos += 12 + bytes.readUInt32LE(pos + 4)) starts.push(pos);
  bytes[starts[10]! + 12 + 50] ^= 0xff;
  fs.writeFileSync(seg, bytes.subarray(0, starts[starts.length - 1]! + 40));
  const expectedMissing = [...Array.from({ length: 100 }, (_, i) => 1000 + i), ...Array.from({ length: 100 }, (_, i) => (records - 1) * 100 + i)];

  const backend = new CountingBackend();
  const second = await launch(yaml, dir);
  try {
    await backend.start(backendPort);
    const expected = (records - 2) * 100;
    await until(() => backend.unique >= expected, 120_000, () => `${backend.unique} of ${expected} spans arrived`);
    await sleep(500);
    const rss = peakRssMiB(second.child.pid);
    await second.stop('SIGTERM');
    const err = second.stderr();
    return {
      scenario: 'corrupt + truncated queue file', sent: records * 100, received: backend.unique, lost: records * 100 - backend.unique, duplicated: backend.duplicates,
      peak_rss_mib: rss, skippedLogged: /persistent queue: skipped corrupt records.*"corrupt_records":2/.test(err),
      droppedSummary: /data not delivered since the last summary.*/.exec(err)?.[0] ?? '',
      missingAsExpected: JSON.stringify(backend.missing(records * 100)) === JSON.stringify(expectedMissing),
    };
  } finally {
    await second.stop('SIGKILL');
    await backend.stop();
  }
}
