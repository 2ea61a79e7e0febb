// bench/http-overhead: what tracing HTTP costs, in one run with the phases interleaved and
// repeated. nginx (Debian, one worker) serves a small file to Debian's `hey` (a Go client: raw
// syscalls, no libc) at a fixed rate, and then to `wrk` at saturation, under
//   none   no tracing;
//   floor  bpftrace counting the same tracepoints Sonde attaches (the floor for any
//          syscall-tracepoint tracer: program runs, no work);
//   sonde  `sonde run` with ebpf_http -> batch -> file, tracing both sides (nginx SERVER spans,
//          hey CLIENT spans): ports [nginx's], executables [nginx, hey].
// and, only when BENCH_PHASES names them (floors under Sonde's figure, not part of it):
//   sock_floor  bpftrace counting the tracepoints of ebpf_http's sock_tracepoint path (their
//               dispatch alone: program runs, no work);
//   capture     Sonde as in `sonde`, its ring buffer batches dropped on arrival (drop-batches.ts):
//               capture and delivery, before any record is looked at.
// value = Sonde's CPU per request (its process's utime+stime plus its BPF programs' run time from
// the kernel's BPF statistics, over the fixed-rate window and until the last span is in the file;
// Sonde starts in each phase and first traces BENCH_WARMUP_SECONDS (10) of the same traffic, not
// counted, so its JIT compiling is not charged to the requests),
// baseline = the nginx worker's own CPU per request without tracing, ratio = value / baseline.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Reader } from 'protobufjs/minimal';

import { enableStats, type Link } from '../../native/index';
import { SOCK_TRACEPOINTS } from '../../receivers/ebpf_http/receiver';
import { startNginx, type Nginx } from '../../test/helpers/nginx';
import { freePort, startSonde, tempDir, type SondeProcess } from '../../test/helpers/sonde-process';

const env = process.env;
const RATE = Number(env.BENCH_RATE ?? 5000);
const WORKERS = Number(env.BENCH_WORKERS ?? 50);
const SECONDS = Number(env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const WRK_SECONDS = Number(env.BENCH_WRK_SECONDS ?? 4);
const FILE_FORMAT = env.BENCH_FILE_FORMAT ?? 'proto';
// Sonde starts fresh in each phase; this much traffic first lets its JIT settle (a tracer runs
// for days: its first seconds of compiling are not its cost per request). After 3 s, V8 was
// still optimizing functions in the measured window (--trace-opt: 26 in it, against 10 after
// 10 s), and its compiler threads were a visible share of Sonde's CPU. 0 = none.
const WARMUP_SECONDS = Number(env.BENCH_WARMUP_SECONDS ?? 10);
const SMALL_FILE = 'index.html';
const SMALL_BYTES = 612; // the size of nginx's own welcome page

type PhaseName = 'none' | 'floor' | 'sonde' | 'sock_floor' | 'capture';
// BENCH_PHASES=sonde (say) runs only some phases: for profiling, not for the figure
const PHASES = (env.BENCH_PHASES ?? 'none,floor,sonde').split(',') as PhaseName[];
const SONDE_NODE_ARGS = (env.BENCH_SONDE_NODE_ARGS ?? '').split(' ').filter(Boolean);
// ebpf_http's data path: auto (the default, what a user gets), or one forced to compare them
const ATTACH = env.BENCH_ATTACH ?? 'auto';
/** the data path Sonde took (from its "ebpf_http attached" log line) */
let dataPath = '';

// The syscall tracepoints ebpf_http's syscall path attaches (Linux 5.15+: receives only at exit,
// their arguments read from the syscall's registers; sends at entry and exit; accept/connect;
// close; exec): the floor counts every one of them, in one per-CPU counter. It stays the floor of
// any syscall-tracepoint tracer where Sonde takes its sock_tracepoint path, which attaches none.
const TRACEPOINTS = [
  ...['write', 'writev', 'sendto', 'sendmsg', 'sendfile64', 'connect'].map((s) => `tracepoint:syscalls:sys_enter_${s}`),
  ...['read', 'readv', 'recvfrom', 'recvmsg', 'write', 'writev', 'sendto', 'sendmsg', 'sendfile64', 'connect', 'accept4', 'accept']
    .map((s) => `tracepoint:syscalls:sys_exit_${s}`),
  'tracepoint:syscalls:sys_enter_close',
  'tracepoint:sched:sched_process_exec',
];
const FLOOR_SCRIPT = `${TRACEPOINTS.join(',\n')} { @calls = count(); }`;
// The tracepoints of the sock_tracepoint path (what `attach: auto` takes on this kernel).
const SOCK_FLOOR_SCRIPT = `${SOCK_TRACEPOINTS.map((t) => `tracepoint:${t.replace('/', ':')}`).join(',\n')} { @calls = count(); }`;
const DROP_BATCHES = path.join(__dirname, 'drop-batches.js');

interface Cpu { utime: number; stime: number }

/** utime + stime of a process (or one thread) in seconds. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const c: Cpu = { utime: Number(f[11]), stime: Number(f[12]) };
  return (c.utime + c.stime) / 100; // clock ticks (USER_HZ = 100)
}

/** Run time (ns) of the BPF programs a process holds open, by program id (from fdinfo). */
function bpfRunTimeNs(pid: number): Map<number, bigint> {
  const out = new Map<number, bigint>();
  let fds: string[] = [];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    let info: string;
    try {
      info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const id = /^prog_id:\s+(\d+)/m.exec(info);
    const rt = /^run_time_ns:\s+(\d+)/m.exec(info);
    if (id && rt) out.set(Number(id[1]), BigInt(rt[1] as string));
  }
  return out;
}

function bpfDeltaSeconds(before: Map<number, bigint>, after: Map<number, bigint>): number {
  let ns = 0n;
  for (const [id, t] of after) ns += t - (before.get(id) ?? 0n);
  return Number(ns) / 1e9;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, out, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message} ${stderr}`)) : resolve(out));
  });
}

interface HeyResult { requests: number; errors: number; p50Us: number; p99Us: number; rps: number }

/** hey's summary: status code counts, errors, latency distribution. */
export function parseHey(out: string): HeyResult {
  let requests = 0;
  for (const m of out.matchAll(/^\s+\[(\d+)\]\s+(\d+) responses/gm)) requests += Number(m[2]);
  let errors = 0;
  const errSection = /Error distribution:\n([\s\S]*)$/.exec(out)?.[1] ?? '';
  for (const m of errSection.matchAll(/^\s+\[(\d+)\]/gm)) errors += Number(m[1]);
  const pct = (p: number): number => {
    const m = new RegExp(`^\\s+${p}%+ in ([\\d.]+) secs`, 'm').exec(out);
    return m ? Math.round(Number(m[1]) * 1e6) : NaN;
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  return { requests, errors, p50Us: pct(50), p99Us: pct(99), rps };
}

async function hey(url: string, seconds = SECONDS): Promise<HeyResult> {
  const out = await run('hey', ['-z', `${seconds}s`, '-c', String(WORKERS), '-q', String(RATE / WORKERS), url], (SECONDS + 60) * 1000);
  const r = parseHey(out);
  if (r.requests === 0) throw new Error(`hey answered nothing:\n${out}`);
  return r;
}

async function wrk(url: string): Promise<number> {
  const out = await run('wrk', ['-t1', '-c16', `-d${WRK_SECONDS}s`, url], (WRK_SECONDS + 60) * 1000);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`wrk: no Requests/sec in:\n${out}`);
  return Number(m[1]);
}

/** SERVER and CLIENT spans in the file exporter's proto output (4-byte big-endian length frames). */
class SpanFile {
  server = 0;
  client = 0;
  private offset = 0;
  private markServer = 0;
  private markClient = 0;

  /** Spans from here on only (the warm-up's are left out). */
  mark(): void {
    this.poll();
    this.markServer = this.server;
    this.markClient = this.client;
  }

  counted(): { server: number; client: number } {
    return { server: this.server - this.markServer, client: this.client - this.markClient };
  }

  constructor(private readonly file: string) {}

  poll(): void {
    let buf: Buffer;
    try {
      const fd = fs.openSync(this.file, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        buf = Buffer.alloc(size - this.offset);
        fs.readSync(fd, buf, 0, buf.length, this.offset);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return;
    }
    let o = 0;
    while (o + 4 <= buf.length) {
      const len = buf.readUInt32BE(o);
      if (o + 4 + len > buf.length) break;
      this.count(buf.subarray(o + 4, o + 4 + len));
      o += 4 + len;
    }
    this.offset += o;
  }

  /** ExportTraceServiceRequest: resource_spans (1) -> scope_spans (2) -> spans (2) -> kind (6). */
  private count(req: Uint8Array): void {
    each(req, 1, (rs) => each(rs, 2, (ss) => each(ss, 2, (span) => {
      const kind = varintField(span, 6);
      if (kind === 2) this.server++;
      else if (kind === 3) this.client++;
    })));
  }
}

function each(bytes: Uint8Array, field: number, fn: (inner: Uint8Array) => void): void {
  const r = Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === field && (tag & 7) === 2) fn(r.bytes());
    else r.skipType(tag & 7);
  }
}

function varintField(bytes: Uint8Array, field: number): number | undefined {
  const r = Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === field && (tag & 7) === 0) return r.uint32();
    r.skipType(tag & 7);
  }
  return undefined;
}

/** Sonde's self-metrics counters (Prometheus text) whose name starts with sonde_http_. */
async function httpSelfMetrics(port: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const line of text.split('\n')) {
      const m = /^sonde_(http_\w+?)(?:_total)?(?:\{([^}]*)\})? ([\d.e+]+)$/.exec(line);
      if (!m) continue;
      const reason = /reason="([^"]+)"/.exec(m[2] ?? '')?.[1];
      const key = reason ? `${m[1] as string}{${reason}}` : (m[1] as string);
      out[key] = (out[key] ?? 0) + Number(m[3]);
    }
  } catch {
    // no endpoint: the counts stay empty
  }
  return out;
}

interface Tracer {
  pid?: number;
  stop(): Promise<void>;
  /** waits until the spans of `requests` requests are in the file (sonde only) */
  settle?(requests: number): Promise<void>;
  spans?(): { server: number; client: number };
  metrics?(): Promise<Record<string, number>>;
}

async function startFloor(script: string): Promise<Tracer> {
  const child: ChildProcess = spawn('bpftrace', ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr?.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const end = Date.now() + 60_000;
  while (!/Attaching \d+ probes/.test(out)) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`bpftrace did not attach:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 500)); // "Attaching" is printed before the last attach
  return {
    pid: child.pid as number,
    stop: async () => {
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Sonde tracing nginx and hey; `dropBatches`: its records are dropped on arrival (no spans). */
async function startTracing(nginx: Nginx, dir: string, dropBatches: boolean): Promise<Tracer> {
  const file = path.join(dir, `spans-${Date.now()}.bin`);
  const metricsPort = await freePort();
  const sonde: SondeProcess = await startSonde(`
receivers:
  ebpf_http:
    ports: [${nginx.port}]
    executables: [nginx, hey]
    attach: ${ATTACH}
processors:
  batch:
exporters:
  file: { path: ${file}, format: ${FILE_FORMAT}, flush_interval: 1s }
service:
  telemetry: { metrics: { level: basic, address: 127.0.0.1:${metricsPort} } }
  pipelines:
    traces: { receivers: [ebpf_http], processors: [batch], exporters: [file] }
`, { dir, readyTimeoutMs: 60_000, nodeArgs: dropBatches ? [...SONDE_NODE_ARGS, '-r', DROP_BATCHES] : SONDE_NODE_ARGS });
  if (!/ebpf_http attached/.test(sonde.stderr())) {
    await sonde.stop();
    throw new Error(`ebpf_http did not attach:\n${sonde.stderr()}`);
  }
  dataPath = /ebpf_http attached.*?"attach":"(\w+)"/.exec(sonde.stderr())?.[1] ?? '?';
  const spans = new SpanFile(file);
  const settle = async (requests: number): Promise<void> => {
    if (dropBatches) return;
    // every span in the file, or no new span for 3 s (some were lost: the counts say so)
    let last = -1;
    let still = Date.now();
    const end = Date.now() + 60_000;
    for (;;) {
      spans.poll();
      const c = spans.counted();
      const n = c.server + c.client;
      if (c.server >= requests && c.client >= requests) return;
      if (n !== last) { last = n; still = Date.now(); }
      if (Date.now() - still > 3000 || Date.now() > end) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  if (WARMUP_SECONDS > 0) {
    const w = await hey(`http://127.0.0.1:${nginx.port}/${SMALL_FILE}`, WARMUP_SECONDS);
    await settle(w.requests);
    if (dropBatches) await new Promise((r) => setTimeout(r, 1000)); // the last batches are in
    spans.mark();
  }
  return {
    pid: sonde.child.pid as number,
    stop: async () => {
      const code = await sonde.stop('SIGTERM');
      if (code !== 0) process.stderr.write(`sonde exited with ${String(code)}:\n${sonde.stderr()}\n`);
    },
    settle,
    spans: () => spans.counted(),
    metrics: () => httpSelfMetrics(metricsPort),
  };
}

interface PhaseResult {
  phase: PhaseName;
  requests: number;
  errors: number;
  p50_us: number;
  p99_us: number;
  nginx_cpu_us_per_request: number;
  tracer_cpu_us_per_request?: number;
  tracer_process_cpu_us_per_request?: number;
  tracer_bpf_us_per_request?: number;
  server_spans?: number;
  client_spans?: number;
  self_metrics?: Record<string, number>;
  wrk_requests_per_s: number;
}

async function phase(name: PhaseName, nginx: Nginx, dir: string): Promise<PhaseResult> {
  const url = `http://127.0.0.1:${nginx.port}/${SMALL_FILE}`;
  const worker = nginx.workers()[0];
  if (worker === undefined) throw new Error('nginx has no worker');
  const tracer = name === 'none' ? undefined
    : name === 'floor' || name === 'sock_floor' ? await startFloor(name === 'floor' ? FLOOR_SCRIPT : SOCK_FLOOR_SCRIPT)
    : await startTracing(nginx, dir, name === 'capture');
  let stats: Link | undefined;
  try {
    await new Promise((r) => setTimeout(r, 1000)); // start-up work (Sonde's TLS scan) is over
    stats = tracer ? enableStats() : undefined;
    const tpid = tracer?.pid;
    const n0 = cpuSeconds(worker);
    const t0 = tpid ? cpuSeconds(tpid) : 0;
    const b0 = tpid ? bpfRunTimeNs(tpid) : new Map<number, bigint>();
    const h = await hey(url);
    const nginxCpu = cpuSeconds(worker) - n0;
    await tracer?.settle?.(h.requests);
    const tracerCpu = tpid ? cpuSeconds(tpid) - t0 : 0;
    const bpf = tpid ? bpfDeltaSeconds(b0, bpfRunTimeNs(tpid)) : 0;
    stats?.close();
    stats = undefined;
    const perReq = (s: number): number => Number(((s * 1e6) / h.requests).toFixed(2));
    const spans = tracer?.spans?.();
    const selfMetrics = await tracer?.metrics?.();
    const wrkRps = await wrk(url);
    return {
      phase: name,
      requests: h.requests,
      errors: h.errors,
      p50_us: h.p50Us,
      p99_us: h.p99Us,
      nginx_cpu_us_per_request: perReq(nginxCpu),
      ...(tracer ? {
        tracer_cpu_us_per_request: perReq(tracerCpu + bpf),
        tracer_process_cpu_us_per_request: perReq(tracerCpu),
        tracer_bpf_us_per_request: perReq(bpf),
      } : {}),
      ...(spans && name === 'sonde' ? { server_spans: spans.server, client_spans: spans.client } : {}),
      ...(selfMetrics ? { self_metrics: selfMetrics } : {}),
      wrk_requests_per_s: Math.round(wrkRps),
    };
  } finally {
    stats?.close();
    await tracer?.stop();
  }
}

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/http-overhead needs root (eBPF, bpftrace)');
  const dir = tempDir('sonde-http-overhead-');
  const nginx = await startNginx({ workers: 1, files: { [SMALL_FILE]: 'x'.repeat(SMALL_BYTES - 1) + '\n' }, locations: '' });
  const results: PhaseResult[] = [];
  try {
    // warm-up: nginx's file cache, hey's binary in the page cache
    await run('hey', ['-z', '2s', '-c', String(WORKERS), '-q', String(RATE / WORKERS), `http://127.0.0.1:${nginx.port}/${SMALL_FILE}`], 60_000);
    for (let r = 0; r < ROUNDS; r++) {
      // rotate the order each round so no phase always follows the same one
      for (let i = 0; i < PHASES.length; i++) {
        const name = PHASES[(i + r) % PHASES.length] as PhaseName;
        const res = await phase(name, nginx, dir);
        process.stderr.write(`http-overhead: round ${r + 1} ${JSON.stringify(res)}\n`);
        results.push(res);
      }
    }
  } finally {
    await nginx.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const of = (p: PhaseName): PhaseResult[] => results.filter((x) => x.phase === p);
  const med = (p: PhaseName, f: (x: PhaseResult) => number | undefined): number => median(of(p).map((x) => f(x) ?? NaN));
  const sum = (p: PhaseName, f: (x: PhaseResult) => number | undefined): number => of(p).reduce((a, x) => a + (f(x) ?? 0), 0);
  const value = med('sonde', (x) => x.tracer_cpu_us_per_request);
  const baseline = med('none', (x) => x.nginx_cpu_us_per_request);
  // the three phases always (null when not run), the opt-in floors when they ran
  const shown: PhaseName[] = ['none', 'floor', 'sonde', ...PHASES.filter((p) => p === 'sock_floor' || p === 'capture')];
  const perPhase = (f: (x: PhaseResult) => number | undefined): Partial<Record<PhaseName, number>> =>
    Object.fromEntries(shown.map((p) => [p, med(p, f)]));
  const drops: Record<string, number> = {};
  for (const x of of('sonde')) {
    for (const [k, v] of Object.entries(x.self_metrics ?? {})) if (/dropped|unmatched|partial/.test(k)) drops[k] = (drops[k] ?? 0) + v;
  }
  console.log(JSON.stringify({
    bench: 'http-overhead',
    value: Number(value.toFixed(2)),
    unit: 'us CPU/request',
    baseline: Number(baseline.toFixed(2)),
    baseline_name: 'nginx worker CPU per request, no tracing, same run',
    ratio: Number((value / baseline).toFixed(3)),
    goal: '<= 10 us and ratio <= 1.0 (toward 0.3); every request traced; p99 within 10% of no tracing',
    details: {
      data_path: dataPath, rate_per_s: RATE, hey_workers: WORKERS, seconds_per_phase: SECONDS, sonde_warmup_seconds: WARMUP_SECONDS, rounds: ROUNDS, file_format: FILE_FORMAT,
      requests: sum('sonde', (x) => x.requests),
      server_spans: sum('sonde', (x) => x.server_spans),
      client_spans: sum('sonde', (x) => x.client_spans),
      counted_drops: drops,
      sonde_process_us_per_request: med('sonde', (x) => x.tracer_process_cpu_us_per_request),
      sonde_bpf_us_per_request: med('sonde', (x) => x.tracer_bpf_us_per_request),
      floor_extra_cpu_us_per_request: med('floor', (x) => x.tracer_cpu_us_per_request),
      floor_bpf_us_per_request: med('floor', (x) => x.tracer_bpf_us_per_request),
      nginx_cpu_us_per_request: perPhase((x) => x.nginx_cpu_us_per_request),
      p50_us: perPhase((x) => x.p50_us),
      p99_us: perPhase((x) => x.p99_us),
      p99_vs_none: Number((med('sonde', (x) => x.p99_us) / med('none', (x) => x.p99_us)).toFixed(3)),
      wrk_saturated_requests_per_s: perPhase((x) => x.wrk_requests_per_s),
      errors: perPhase((x) => x.errors),
      ...(of('sock_floor').length > 0 ? { sock_floor_bpf_us_per_request: med('sock_floor', (x) => x.tracer_bpf_us_per_request) } : {}),
      ...(of('capture').length > 0 ? {
        capture_us_per_request: {
          total: med('capture', (x) => x.tracer_cpu_us_per_request),
          process: med('capture', (x) => x.tracer_process_cpu_us_per_request),
          bpf: med('capture', (x) => x.tracer_bpf_us_per_request),
        },
      } : {}),
      runs: results,
    },
  }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
