// What both Prometheus exporters work on after translation: one point per series, its metric
// family (name, type, help, unit) and its labels sorted by name, values as plain numbers.

export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'unknown' | 'info';

export interface Family {
  name: string;
  type: FamilyType;
  help: string;
  /** The Prometheus unit word (seconds, bytes...), '' when none. */
  unit: string;
}

export interface PromLabel { name: string; value: string }

/** Classic histogram: per-bucket counts (not cumulative), one more than bounds (the +Inf bucket). */
export interface ClassicValue { kind: 'histogram'; bounds: number[]; counts: number[]; count: number; sum: number | undefined }

/** Exponential buckets as OTel gives them: counts[i] is bucket index offset + i. */
export interface ExpBuckets { offset: number; counts: number[] }

export interface ExpValue {
  kind: 'exponential';
  scale: number;
  zeroThreshold: number;
  zeroCount: number;
  count: number;
  sum: number | undefined;
  positive: ExpBuckets;
  negative: ExpBuckets;
}

export interface SummaryValue { kind: 'summary'; count: number; sum: number; quantiles: { quantile: number; value: number }[] }

export interface NumberValue { kind: 'number'; value: number }

export type PointValue = NumberValue | ClassicValue | ExpValue | SummaryValue;

/** An OTel exemplar as Prometheus keeps it: trace_id/span_id and filtered attributes as labels. */
export interface PromExemplar { labels: PromLabel[]; value: number; timestampMs: number }

export interface Point {
  family: Family;
  /** Sorted by name, without __name__. */
  labels: PromLabel[];
  /** Milliseconds since the epoch. */
  timestampMs: number;
  /** Start of a cumulative series, ms (0 when unknown). */
  startMs: number;
  /** The OTel NoRecordedValue flag: written as Prometheus' staleness marker. */
  stale: boolean;
  value: PointValue;
  exemplars: PromExemplar[];
}

/** Prometheus' staleness marker: this exact NaN bit pattern. */
export const STALE_NAN_BITS = 0x7ff0000000000002n;
export const STALE_NAN: number = (() => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(STALE_NAN_BITS);
  return b.readDoubleLE(0);
})();

export function isStaleNaN(v: number): boolean {
  if (!Number.isNaN(v)) return false;
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return b.readBigUInt64LE(0) === STALE_NAN_BITS;
}

/** A key for one series: family name and labels (already sorted). */
export function seriesKey(name: string, labels: readonly PromLabel[]): string {
  let k = name;
  for (const l of labels) k += `\u0000${l.name}\u0001${l.value}`;
  return k;
}
