// Delta -> cumulative, for sums, histograms and exponential histograms (Prometheus only knows
// cumulative series; DESIGN.md: convert rather than drop). Per series it keeps the running total
// and the time of the last delta added: a delta at or before that time is a duplicate or out of
// order and is refused (the caller counts it); a delta whose buckets do not line up with the
// total (other explicit bounds) starts the series again. Idle series expire so the state does not
// only grow.
import type { ClassicValue, ExpBuckets, ExpValue, PointValue } from './model';

interface Entry { value: PointValue; startMs: number; lastMs: number; seenAt: number }

export type AccumulateResult = { ok: true; value: PointValue; startMs: number } | { ok: false; reason: 'delta_out_of_order' };

export class CumulativeTracker {
  private readonly series = new Map<string, Entry>();
  private lastSweep = 0;

  /** expireMs: forget a series not updated for this long (0 = never). */
  constructor(private readonly expireMs: number, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.series.size;
  }

  /**
   * Adds one delta point to its series and returns the cumulative value to export. The returned
   * value is owned by the tracker: callers must not change it.
   */
  accumulate(key: string, delta: PointValue, startMs: number, timeMs: number): AccumulateResult {
    const now = this.now();
    this.sweep(now);
    const prev = this.series.get(key);
    if (!prev || prev.value.kind !== delta.kind) {
      const value = copyValue(delta);
      this.series.set(key, { value, startMs: startMs || timeMs, lastMs: timeMs, seenAt: now });
      return { ok: true, value, startMs: startMs || timeMs };
    }
    if (timeMs <= prev.lastMs) return { ok: false, reason: 'delta_out_of_order' };
    const merged = add(prev.value, delta);
    if (merged === undefined) {
      // Buckets changed: a new series start, as a reset would be in Prometheus.
      const value = copyValue(delta);
      this.series.set(key, { value, startMs: startMs || timeMs, lastMs: timeMs, seenAt: now });
      return { ok: true, value, startMs: startMs || timeMs };
    }
    prev.value = merged;
    prev.lastMs = timeMs;
    prev.seenAt = now;
    return { ok: true, value: merged, startMs: prev.startMs };
  }

  private sweep(now: number): void {
    if (this.expireMs <= 0 || now - this.lastSweep < Math.min(this.expireMs, 60_000)) return;
    this.lastSweep = now;
    for (const [k, e] of this.series) if (now - e.seenAt > this.expireMs) this.series.delete(k);
  }
}

function copyValue(v: PointValue): PointValue {
  switch (v.kind) {
    case 'number': return { ...v };
    case 'histogram': return { ...v, bounds: [...v.bounds], counts: [...v.counts] };
    case 'exponential': return { ...v, positive: { offset: v.positive.offset, counts: [...v.positive.counts] }, negative: { offset: v.negative.offset, counts: [...v.negative.counts] } };
    case 'summary': return { ...v, quantiles: v.quantiles.map((q) => ({ ...q })) };
  }
}

function addOptional(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a + b;
}

/** total + delta, or undefined when they cannot be added (other bounds). */
function add(total: PointValue, delta: PointValue): PointValue | undefined {
  if (total.kind === 'number' && delta.kind === 'number') return { kind: 'number', value: total.value + delta.value };
  if (total.kind === 'histogram' && delta.kind === 'histogram') return addClassic(total, delta);
  if (total.kind === 'exponential' && delta.kind === 'exponential') return addExponential(total, delta);
  return undefined;
}

function addClassic(total: ClassicValue, delta: ClassicValue): ClassicValue | undefined {
  if (total.bounds.length !== delta.bounds.length || total.bounds.some((b, i) => b !== delta.bounds[i])) return undefined;
  return {
    kind: 'histogram',
    bounds: total.bounds,
    counts: total.counts.map((c, i) => c + (delta.counts[i] ?? 0)),
    count: total.count + delta.count,
    sum: addOptional(total.sum, delta.sum),
  };
}

/** Both at the coarser scale of the two, then bucket by bucket (the OTel merge rule). */
export function addExponential(total: ExpValue, delta: ExpValue): ExpValue {
  const scale = Math.min(total.scale, delta.scale);
  const a = downscale(total, total.scale - scale);
  const b = downscale(delta, delta.scale - scale);
  return {
    kind: 'exponential',
    scale,
    zeroThreshold: Math.max(total.zeroThreshold, delta.zeroThreshold),
    zeroCount: total.zeroCount + delta.zeroCount,
    count: total.count + delta.count,
    sum: addOptional(total.sum, delta.sum),
    positive: addBuckets(a.positive, b.positive),
    negative: addBuckets(a.negative, b.negative),
  };
}

/** Lowers the scale by `by`: 2^by neighbouring buckets fold into one. */
export function downscale(v: ExpValue, by: number): ExpValue {
  if (by <= 0) return v;
  return { ...v, scale: v.scale - by, positive: foldBuckets(v.positive, by), negative: foldBuckets(v.negative, by) };
}

function foldBuckets(b: ExpBuckets, by: number): ExpBuckets {
  if (b.counts.length === 0) return { offset: 0, counts: [] };
  // Arithmetic shift floors negative indexes too, as the OTel downscale rule wants.
  const first = b.offset >> by;
  const last = (b.offset + b.counts.length - 1) >> by;
  const counts = new Array<number>(last - first + 1).fill(0);
  for (let i = 0; i < b.counts.length; i++) counts[((b.offset + i) >> by) - first]! += b.counts[i]!;
  return { offset: first, counts };
}

function addBuckets(a: ExpBuckets, b: ExpBuckets): ExpBuckets {
  if (a.counts.length === 0) return { offset: b.offset, counts: [...b.counts] };
  if (b.counts.length === 0) return { offset: a.offset, counts: [...a.counts] };
  const first = Math.min(a.offset, b.offset);
  const end = Math.max(a.offset + a.counts.length, b.offset + b.counts.length);
  const counts = new Array<number>(end - first).fill(0);
  for (let i = 0; i < a.counts.length; i++) counts[a.offset + i - first]! += a.counts[i]!;
  for (let i = 0; i < b.counts.length; i++) counts[b.offset + i - first]! += b.counts[i]!;
  return { offset: first, counts };
}
