// Kernel time -> wall-clock time, in one place. bpf_ktime_get_ns() is CLOCK_MONOTONIC; epoch
// time = monotonic + (realtime - monotonic), the offset measured at one instant (the addon reads
// both clocks back to back) and refreshed now and then, since NTP slews the realtime clock.
import Long from 'long';

import { addonStatus, clockPair } from './index';
import type { ClockPair } from './index';

export type ClockSource = () => ClockPair;

/** Without the addon: process.hrtime is CLOCK_MONOTONIC on Linux; the epoch side has ~1 us. */
function fallbackSource(): ClockPair {
  const m1 = process.hrtime.bigint();
  const realMs = performance.timeOrigin + performance.now();
  const m2 = process.hrtime.bigint();
  return {
    monotonicNs: m1 + (m2 - m1) / 2n,
    realtimeNs: BigInt(Math.round(realMs * 1e6)),
    uncertaintyNs: Number(m2 - m1) + 1000,
  };
}

export class KernelClock {
  private offset = 0n;
  private measuredAt = -Infinity;
  private uncertainty = 0;

  constructor(
    private readonly source: ClockSource = fallbackSource,
    /** re-measure the offset when it is older than this (default one minute) */
    private readonly refreshMs = 60_000,
  ) {}

  /** realtime - monotonic, in ns. */
  offsetNs(): bigint {
    const now = performance.now();
    if (now - this.measuredAt > this.refreshMs) {
      const p = this.source();
      this.offset = p.realtimeNs - p.monotonicNs;
      this.uncertainty = p.uncertaintyNs;
      this.measuredAt = now;
    }
    return this.offset;
  }

  /** How precisely the current offset is known, ns. */
  uncertaintyNs(): number {
    this.offsetNs();
    return this.uncertainty;
  }

  /** A bpf_ktime_get_ns() value as nanoseconds since the Unix epoch. */
  toEpochNs(ktimeNs: bigint | number): bigint {
    return BigInt(ktimeNs) + this.offsetNs();
  }

  /** The same as an unsigned Long, as OTLP's fixed64 timestamps want it. */
  toEpochLong(ktimeNs: bigint | number): Long {
    return Long.fromString(this.toEpochNs(ktimeNs).toString(), true);
  }
}

let shared: KernelClock | undefined;

/** The process-wide clock (the addon's clock pair when it loads, else the fallback). */
export function kernelClock(): KernelClock {
  if (!shared) {
    // works where the addon is not built (index.ts loads it only on demand)
    shared = new KernelClock(addonStatus().ok ? clockPair : fallbackSource);
  }
  return shared;
}
