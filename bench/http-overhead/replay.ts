// A development tool beside bench/http-overhead: the user-space share of Sonde's cost per
// request, measured without the noise of a live run (other processes, BPF, hey, nginx).
//   record FILE [SECONDS]  as root: nginx + hey at BENCH_RATE (5000/s) traced by ebpf_http in
//                          this process; the ring buffer batches it reads are saved to FILE.
//   replay FILE [TIMES]    the saved batches through a fresh ebpf_http receiver (decode,
//                          tracking, spans) -> batch -> file (proto), TIMES times; prints the
//                          CPU per request (user+sys of this process / requests) of each pass.
// Run from dist/: node dist/bench/http-overhead/replay.js record /tmp/http.batches 5
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { BpfObject, enableStats, type ReaderOptions, type RingBufferReader } from '../../native/index';
import type { Consumer } from '../../pipeline/component';
import { readConfig } from '../../pipeline/config/schema';
import type { TracesData } from '../../pipeline/pdata';
import { configSchema as batchSchema } from '../../processors/batch/config';
import { BatchProcessor } from '../../processors/batch/batcher';
import { configSchema as fileSchema } from '../../exporters/file/config';
import { FileExporter } from '../../exporters/file/exporter';
import { configSchema, type EbpfHttpConfig } from '../../receivers/ebpf_http/config';
import { EbpfHttpReceiver } from '../../receivers/ebpf_http/receiver';
import { startNginx } from '../../test/helpers/nginx';
import { RecordingTelemetry, testHost, testSettings } from '../../test/helpers/component-harness';

const RATE = Number(process.env.BENCH_RATE ?? 5000);
const WORKERS = 50;

function receiverConfig(port: number, executables = ['nginx', 'hey']): EbpfHttpConfig {
  const extra = process.env.REPLAY_RECEIVER ? JSON.parse(process.env.REPLAY_RECEIVER) as Record<string, unknown> : {};
  const { value, issues } = readConfig(configSchema, { ports: [port], executables, ...extra });
  if (issues.length > 0) throw new Error(JSON.stringify(issues));
  return value;
}

async function record(file: string, seconds: number): Promise<void> {
  const out = fs.openSync(file, 'w');
  const original = BpfObject.prototype.openRingBuffer;
  // tee every batch the receiver reads into the file (length-prefixed)
  BpfObject.prototype.openRingBuffer = function (this: BpfObject, map: string, onBatch: (batch: Buffer, records: number, droppedBefore: number) => void, opts?: ReaderOptions): RingBufferReader {
    return original.call(this, map, (batch, records, droppedBefore) => {
      const len = Buffer.alloc(4);
      len.writeUInt32LE(batch.length);
      fs.writeSync(out, len);
      fs.writeSync(out, batch);
      onBatch(batch, records, droppedBefore);
    }, opts);
  };
  const nginx = await startNginx({ workers: 1, files: { 'index.html': 'x'.repeat(611) + '\n' }, locations: '' });
  let spans = 0;
  const next: Consumer<TracesData> = { consume: async (d) => { for (const r of d.resourceSpans) for (const s of r.scopeSpans) spans += s.spans.length; } };
  const rx = new EbpfHttpReceiver(testSettings(new RecordingTelemetry(), 'ebpf_http', 'receiver'), receiverConfig(nginx.port), { traces: next });
  const stats = enableStats();
  let before = new Map<string, [number, number]>();
  try {
    await rx.start(testHost);
    await new Promise((r) => setTimeout(r, 1000));
    before = progStats();
    // REPLAY_PIN=1: nginx on CPU 0, hey on CPU 1 (less run-to-run spread when comparing builds)
    const pin = process.env.REPLAY_PIN === '1';
    if (pin) for (const w of nginx.workers()) execFileSync('taskset', ['-pc', '0', String(w)]);
    const heyArgs = ['-z', `${seconds}s`, '-c', String(WORKERS), '-q', String(RATE / WORKERS), `http://127.0.0.1:${nginx.port}/index.html`];
    await new Promise<void>((resolve, reject) => execFile(pin ? 'taskset' : 'hey', pin ? ['-c', '1', 'hey', ...heyArgs] : heyArgs,
      { maxBuffer: 64 << 20 }, (err) => (err ? reject(err) : resolve())));
    await new Promise((r) => setTimeout(r, 500));
    // each program's runs and mean run time over the hey window (every process's syscalls)
    const names = new Map<string, string>();
    try {
      for (const p of JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8' })) as { id: number; name: string }[]) names.set(String(p.id), p.name);
    } catch {
      // no bpftool: ids only
    }
    for (const [id, [ns, runs]] of progStats()) {
      const name = names.get(id) ?? id;
      const [ns0, runs0] = before.get(id) ?? [0, 0];
      if (runs > runs0) process.stdout.write(`${name.padEnd(20)} runs ${String(runs - runs0).padStart(8)}  mean ${((ns - ns0) / (runs - runs0)).toFixed(0)} ns\n`);
    }
  } finally {
    stats.close();
    await rx.shutdown();
    await nginx.stop();
    fs.closeSync(out);
  }
  process.stdout.write(`recorded ${fs.statSync(file).size} bytes, ${spans} spans\n`);
}

/** BPF programs this process holds: name -> [run_time_ns, run_cnt] (fdinfo). */
function progStats(): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const fd of fs.readdirSync('/proc/self/fdinfo')) {
    let info: string;
    try {
      info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const id = /^prog_id:\s+(\d+)/m.exec(info);
    const ns = /^run_time_ns:\s+(\d+)/m.exec(info);
    const cnt = /^run_cnt:\s+(\d+)/m.exec(info);
    if (id && ns && cnt) out.set(id[1] as string, [Number(ns[1]), Number(cnt[1])]);
  }
  return out;
}

function batches(file: string): Buffer[] {
  const all = fs.readFileSync(file);
  const out: Buffer[] = [];
  for (let o = 0; o + 4 <= all.length;) {
    const len = all.readUInt32LE(o);
    out.push(Buffer.from(all.subarray(o + 4, o + 4 + len)));
    o += 4 + len;
  }
  return out;
}

async function replay(file: string, times: number): Promise<void> {
  const list = batches(file);
  // the pipeline's timers are unref'd: keep the process alive while they run
  const alive = setInterval(() => undefined, 1000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sonde-replay-'));
  try {
    for (let t = 0; t < times; t++) {
      const tel = new RecordingTelemetry();
      const fileCfg = readConfig(fileSchema, { path: path.join(dir, 'spans.bin'), format: 'proto' }).value;
      const exporter = new FileExporter(testSettings(tel, 'file', 'exporter'), fileCfg, ['traces']);
      await exporter.start(testHost);
      const batch = new BatchProcessor(testSettings(tel, 'batch', 'processor'), readConfig(batchSchema, {}).value, 'traces',
        exporter.consumers.traces as Consumer<TracesData>);
      // REPLAY_PIPELINE=none: the receiver alone (its spans counted, then dropped)
      const alone: Consumer<TracesData> = { consume: async (d) => { for (const r of d.resourceSpans) for (const s of r.scopeSpans) tel.sent('traces', s.spans.length); } };
      const rx = new EbpfHttpReceiver(testSettings(tel, 'ebpf_http', 'receiver'), receiverConfig(1, []), { traces: process.env.REPLAY_PIPELINE === 'none' ? alone : batch });
      const r = rx as unknown as { onBatch(b: Buffer, droppedBefore: number): void; tick(): void; flush(): Promise<void> };
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      for (const b of list) {
        r.onBatch(b, 0);
        r.tick();
        // the batches were 50 ms apart: let the pipeline's timers and writes run in between
        await new Promise((res) => setImmediate(res));
      }
      await r.flush();
      await batch.shutdown();
      await exporter.shutdown();
      const c = process.cpuUsage(c0);
      const wall = performance.now() - w0;
      const spans = tel.total('sent', 'traces');
      const requests = spans / 2;
      process.stdout.write(`${JSON.stringify({
        pass: t + 1, spans, us_cpu_per_request: Number((((c.user + c.system) / requests)).toFixed(2)),
        us_wall_per_request: Number(((wall * 1000) / requests).toFixed(2)), counts: tel.summary(),
      })}\n`);
    }
  } finally {
    clearInterval(alive);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const [mode, file, n] = process.argv.slice(2);
  if (mode === 'record' && file) return record(file, Number(n ?? 5));
  if (mode === 'replay' && file) return replay(file, Number(n ?? 3));
  throw new Error('usage: replay.js record FILE [SECONDS] | replay FILE [TIMES]');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
