// bench/ringbuf: records/s delivered to JavaScript from a BPF ring buffer, against a plain C libbpf
// consumer of the same program, driven by the same writer, in the same run.
//
// A child write(2)s one byte to /dev/null N times; bpf/syscall_write.bpf.c (tracepoint
// syscalls/sys_enter_write, filtered on the child's pid) emits one 32-byte record per call with
// adaptive wake-up. The rate is records received / (go -> last record received). Rounds alternate
// JS and C; the median of each side is reported. Prints one JSON line on stdout.
//
// run: node dist/bench/ringbuf/index.js [records]   (after `npm run build`; root for eBPF)
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { BpfObject, bpfObjectPath, sondeRoot } from '../../native/index';
import { WRITE_EVENT } from '../../native/records';

const ROOT = sondeRoot();
const OUT = path.join(ROOT, 'build', 'bench', 'ringbuf');
const N = Number(process.argv[2] ?? process.env['SONDE_BENCH_RECORDS'] ?? 1_000_000);
const ROUNDS = Number(process.env['SONDE_BENCH_ROUNDS'] ?? 5);
const RING_BYTES = 16 << 20;
const WAKEUP_BYTES = 256 << 10;
const TP = 'tracepoint__syscalls__sys_enter_write';

interface SideResult {
  records: number;
  seconds: number;
  rate: number;
  kernel_lost: number;
  wrong_pid: number;
  cpu_seconds: number;
  dropped_in_addon?: number;
  queue_full_waits?: number;
  batches?: number;
}

function log(msg: string): void {
  process.stderr.write(`bench ringbuf: ${msg}\n`);
}

function sh(cmd: string, args: string[], opts: { stdout?: string } = {}): void {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${String(r.status)}):\n${r.stderr}`);
  if (opts.stdout) fs.writeFileSync(opts.stdout, r.stdout);
}

const newer = (target: string, ...deps: string[]): boolean =>
  !fs.existsSync(target) || deps.some((d) => fs.statSync(d).mtimeMs > fs.statSync(target).mtimeMs);

/** Builds the BPF objects (setup-ebpf.sh), the writer, the skeleton and the C consumer. */
function build(): { writer: string; consumer: string } {
  sh('bash', [path.join(ROOT, 'scripts', 'setup-ebpf.sh')]);
  fs.mkdirSync(OUT, { recursive: true });
  const src = path.join(ROOT, 'bench', 'ringbuf');
  const obj = bpfObjectPath('syscall_write');
  const skel = path.join(OUT, 'syscall_write.skel.h');
  const writer = path.join(OUT, 'writer');
  const consumer = path.join(OUT, 'consumer');
  if (newer(skel, obj)) sh('bpftool', ['gen', 'skeleton', obj, 'name', 'syscall_write'], { stdout: skel });
  if (newer(writer, path.join(src, 'writer.c'))) sh('gcc', ['-O2', '-Wall', '-o', writer, path.join(src, 'writer.c')]);
  if (newer(consumer, path.join(src, 'consumer.c'), skel, path.join(ROOT, 'bpf', 'sonde.h'))) {
    sh('gcc', ['-O2', '-Wall', `-I${OUT}`, `-I${path.join(ROOT, 'bpf')}`, '-o', consumer, path.join(src, 'consumer.c'), '-lbpf', '-lelf', '-lz']);
  }
  return { writer, consumer };
}

function runC(consumer: string, writer: string): SideResult {
  const r = spawnSync(consumer, [writer, String(N), String(RING_BYTES), String(WAKEUP_BYTES)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`C consumer failed (${String(r.status)}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as SideResult;
}

async function runJs(writer: string): Promise<SideResult> {
  const child = spawn(writer, [String(N)], { stdio: ['pipe', 'ignore', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pid = child.pid as number;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const obj = BpfObject.open('syscall_write');
  try {
    obj
      .setGlobalU32('target_tgid', pid)
      .setGlobalU32('sonde_self_tgid', process.pid)
      .setGlobalBool('emit_events', true)
      .setGlobalU64('sonde_wakeup_bytes', WAKEUP_BYTES)
      .setMapMaxEntries('events', RING_BYTES)
      .keepOnly(TP)
      .load();
    let delivered = 0;
    let wrongPid = 0;
    let bytes = 0;
    let tLast = 0;
    const size = WRITE_EVENT.size;
    const pidOff = WRITE_EVENT.fields.pid.offset;
    const countOff = WRITE_EVENT.fields.count.offset;
    let allIn: (() => void) | undefined;
    const reader = obj.openRingBuffer(
      'events',
      (batch, n) => {
        // the same light work as the C consumer: check the pid, add up the byte counts
        for (let off = 0; off < batch.length; off += size) {
          if (batch.readUInt32LE(off + pidOff) !== pid) wrongPid++;
          bytes += batch.readUInt32LE(off + countOff);
        }
        delivered += n;
        tLast = performance.now();
        if (delivered >= N) allIn?.();
      },
      { recordSize: size },
    );
    obj.attachTracepoint(TP, 'syscalls', 'sys_enter_write');
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    child.stdin?.end('g');
    await exited;
    // the writer is done; the rest is in flight at most one poll timeout
    if (delivered < N) {
      await new Promise<void>((resolve) => {
        allIn = resolve;
        setTimeout(resolve, 2000);
      });
    }
    const cpu = process.cpuUsage(cpu0);
    const stats = await reader.close();
    const seconds = (tLast - t0) / 1000;
    void bytes;
    return {
      records: delivered,
      seconds,
      rate: seconds > 0 ? delivered / seconds : 0,
      kernel_lost: Number(obj.kernelLost()),
      wrong_pid: wrongPid,
      cpu_seconds: (cpu.user + cpu.system) / 1e6,
      dropped_in_addon: stats.droppedRecords,
      queue_full_waits: stats.queueFullWaits,
      batches: stats.batches,
    };
  } finally {
    obj.close();
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

async function main(): Promise<void> {
  const { writer, consumer } = build();
  const js: SideResult[] = [];
  const c: SideResult[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const cr = runC(consumer, writer);
    c.push(cr);
    log(`round ${i + 1} C:  ${cr.records} records, ${Math.round(cr.rate)}/s, lost ${cr.kernel_lost}, cpu ${cr.cpu_seconds}s`);
    const jr = await runJs(writer);
    js.push(jr);
    log(`round ${i + 1} JS: ${jr.records} records, ${Math.round(jr.rate)}/s, lost ${jr.kernel_lost}+${jr.dropped_in_addon ?? 0}, cpu ${jr.cpu_seconds.toFixed(3)}s`);
  }
  const value = Math.round(median(js.map((r) => r.rate)));
  const baseline = Math.round(median(c.map((r) => r.rate)));
  // every record is either delivered or counted as lost somewhere; anything else is unexplained
  const unexplained = (rs: SideResult[]): number =>
    rs.reduce((s, r) => s + (N - r.records - r.kernel_lost - (r.dropped_in_addon ?? 0)), 0);
  const line = {
    bench: 'ringbuf',
    value,
    unit: 'records/s',
    baseline,
    baseline_name: 'c-libbpf-consumer',
    ratio: baseline > 0 ? Number((value / baseline).toFixed(3)) : 0,
    goal: '>= 0.8 with zero unexplained loss',
    details: {
      records_per_round: N,
      rounds: ROUNDS,
      ring_bytes: RING_BYTES,
      wakeup_bytes: WAKEUP_BYTES,
      js: {
        kernel_lost: js.reduce((s, r) => s + r.kernel_lost, 0),
        dropped_in_addon: js.reduce((s, r) => s + (r.dropped_in_addon ?? 0), 0),
        unexplained_loss: unexplained(js),
        wrong_pid: js.reduce((s, r) => s + r.wrong_pid, 0),
        cpu_seconds_median: median(js.map((r) => r.cpu_seconds)),
        batches_median: median(js.map((r) => r.batches ?? 0)),
        queue_full_waits: js.reduce((s, r) => s + (r.queue_full_waits ?? 0), 0),
        rates: js.map((r) => Math.round(r.rate)),
      },
      c: {
        kernel_lost: c.reduce((s, r) => s + r.kernel_lost, 0),
        unexplained_loss: unexplained(c),
        wrong_pid: c.reduce((s, r) => s + r.wrong_pid, 0),
        cpu_seconds_median: median(c.map((r) => r.cpu_seconds)),
        rates: c.map((r) => Math.round(r.rate)),
      },
    },
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench ringbuf: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
