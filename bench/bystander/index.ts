// bench/bystander: what ebpf_http costs the processes on the node that do no HTTP at all. A
// bystander (Debian's `dd`, 64-byte blocks from /dev/zero to /dev/null: file reads and writes, no
// socket) runs under no tracing and under the ebpf_http receiver on each data path this kernel
// accepts, phases interleaved and repeated. value = the bystander's time per syscall under the
// path `attach: auto` takes, baseline = the same without tracing, ratio = value / baseline.
// Enabling any syscall tracepoint puts every syscall of every process on the kernel's slow path
// (and runs the tracer's programs on every read/write of every file); the sock tracepoints fire
// only on socket messages.
import { execFileSync } from 'node:child_process';

import { readConfig } from '../../pipeline/config/schema';
import { ebpfHttpReceiverFactory } from '../../receivers/ebpf_http';
import type { EbpfHttpReceiver } from '../../receivers/ebpf_http/receiver';
import { RecordingTelemetry, testHost, testSettings } from '../../test/helpers/component-harness';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 2_000_000);
const SYSCALLS = 2 * BLOCKS; // a read and a write per block

type Phase = 'none' | 'auto' | 'tracepoint';

/** The bystander's wall time per syscall, in microseconds (it runs alone on an idle core). */
function bystanderUs(): number {
  const t0 = process.hrtime.bigint();
  execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=64', `count=${BLOCKS}`], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - t0) / 1e3 / SYSCALLS;
}

async function receiver(attach: string): Promise<EbpfHttpReceiver> {
  const { value } = readConfig(ebpfHttpReceiverFactory.config, { attach, tls: false });
  const r = ebpfHttpReceiverFactory.create(testSettings(new RecordingTelemetry(), 'ebpf_http', 'receiver'), value, { traces: { consume: async () => {} } });
  await r.start(testHost);
  return r as EbpfHttpReceiver;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const runs: { phase: Phase; us_per_syscall: number }[] = [];
  let autoPath = '';
  for (let round = 0; round < ROUNDS; round++) {
    for (const phase of ['none', 'auto', 'tracepoint'] as const) {
      const r = phase === 'none' ? undefined : await receiver(phase);
      if (phase === 'auto') autoPath = r?.dataPath ?? '';
      try {
        runs.push({ phase, us_per_syscall: Number(bystanderUs().toFixed(4)) });
      } finally {
        await r?.shutdown();
      }
    }
  }
  const med = (p: Phase): number => median(runs.filter((x) => x.phase === p).map((x) => x.us_per_syscall));
  const value = med('auto');
  const baseline = med('none');
  console.log(JSON.stringify({
    bench: 'bystander',
    value: Number(value.toFixed(3)),
    unit: 'us per syscall of a process doing no HTTP',
    baseline: Number(baseline.toFixed(3)),
    baseline_name: 'the same process, no tracing, same run',
    ratio: Number((value / baseline).toFixed(3)),
    goal: 'processes that do no HTTP pay nothing measurable for ebpf_http (ratio ~1.0)',
    details: {
      auto_data_path: autoPath, syscalls_per_run: SYSCALLS, rounds: ROUNDS,
      syscall_tracepoint_path_us_per_syscall: Number(med('tracepoint').toFixed(3)),
      runs,
    },
  }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
