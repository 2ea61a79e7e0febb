// The one place that drives @datadog/pprof. V8 has a single CPU profiler and a single sampling
// heap profiler per process, so both are process-wide here too: one CPU profile at a time (as
// in Go), and the heap sampler shared by every pprof extension instance.
import { encode, heap, time } from '@datadog/pprof';

// Go's CPU profiling rate is 100 Hz.
const INTERVAL_MICROS = 10_000;
// Go's default MemProfileRate: one sample per 512 KiB allocated.
const HEAP_INTERVAL_BYTES = 512 * 1024;
const HEAP_STACK_DEPTH = 64;

export class ProfilerBusyError extends Error {
  override readonly name = 'ProfilerBusyError';
  constructor() {
    super('cpu profiling already in use');
  }
}

/** A running CPU profile; stop() returns it gzipped in pprof format. */
export interface CpuProfile {
  stop(): Promise<Buffer>;
}

let cpuOwner: object | undefined;

/** Starts the process's CPU profiler; ProfilerBusyError when a profile is already running. */
export function startCpuProfile(): CpuProfile {
  if (cpuOwner || time.isStarted()) throw new ProfilerBusyError();
  // cpu/nanoseconds beside wall time: a CPU profile in pprof's sense (needs contexts).
  time.start({ intervalMicros: INTERVAL_MICROS, collectCpuTime: true, withContexts: true });
  const owner = {};
  cpuOwner = owner;
  let stopped: Promise<Buffer> | undefined;
  return {
    stop(): Promise<Buffer> {
      if (!stopped) {
        const profile = time.stop(false);
        cpuOwner = undefined;
        stopped = encode(profile);
      }
      return stopped;
    },
  };
}

let heapUsers = 0;

/** Keeps the heap sampler on while at least one user holds it. */
export function acquireHeapProfiler(): void {
  if (heapUsers === 0) heap.start(HEAP_INTERVAL_BYTES, HEAP_STACK_DEPTH);
  heapUsers++;
}

export function releaseHeapProfiler(): void {
  if (heapUsers === 0) return;
  heapUsers--;
  if (heapUsers === 0) heap.stop();
}

/** The live-heap profile so far, gzipped pprof. */
export function heapProfile(): Promise<Buffer> {
  return encode(heap.profile());
}
