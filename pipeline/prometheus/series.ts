// Points -> the sample series Prometheus stores: a classic histogram is name_bucket{le},
// name_sum, name_count; a summary name{quantile}, name_sum, name_count; an exponential histogram
// one native histogram (remote write) or, where only classic ones exist (the text format), its
// bucket boundaries as le buckets. Staleness markers go on every series of a stale point.
import type { ClassicValue, ExpBuckets, ExpValue, Point, PromLabel, SummaryValue } from './model';
import { STALE_NAN } from './model';
import { formatFloat } from './translate';
import { ResetHint, type BucketSpan, type NativeHistogram } from './remote-write-proto';

/** One sample series: its full name, labels (sorted, without __name__) and value. */
export interface FlatSample { name: string; labels: PromLabel[]; value: number }

/** `labels` plus `extra` (names not among them), sorted by name. */
export function withLabel(labels: readonly PromLabel[], name: string, value: string): PromLabel[] {
  const out: PromLabel[] = [];
  let placed = false;
  for (const l of labels) {
    if (!placed && name < l.name) {
      out.push({ name, value });
      placed = true;
    }
    if (l.name === name) continue;
    out.push(l);
  }
  if (!placed) out.push({ name, value });
  return out;
}

function classic(name: string, labels: PromLabel[], v: ClassicValue, stale: boolean, out: FlatSample[]): void {
  let cumulative = 0;
  for (let i = 0; i < v.counts.length; i++) {
    cumulative += v.counts[i]!;
    const le = i < v.bounds.length ? formatFloat(v.bounds[i]!) : '+Inf';
    out.push({ name: `${name}_bucket`, labels: withLabel(labels, 'le', le), value: stale ? STALE_NAN : cumulative });
  }
  if (v.sum !== undefined) out.push({ name: `${name}_sum`, labels, value: stale ? STALE_NAN : v.sum });
  out.push({ name: `${name}_count`, labels, value: stale ? STALE_NAN : v.count });
}

function summary(name: string, labels: PromLabel[], v: SummaryValue, stale: boolean, out: FlatSample[]): void {
  for (const q of v.quantiles) out.push({ name, labels: withLabel(labels, 'quantile', formatFloat(q.quantile)), value: stale ? STALE_NAN : q.value });
  out.push({ name: `${name}_sum`, labels, value: stale ? STALE_NAN : v.sum });
  out.push({ name: `${name}_count`, labels, value: stale ? STALE_NAN : v.count });
}

/**
 * The classic form of an exponential histogram: each populated bucket's upper boundary as an le
 * bucket (negative buckets first, from the most negative; the zero bucket at +zero_threshold).
 * Counts are exact; only a value lying exactly on a negative boundary may sit one bucket over.
 */
export function expToClassic(v: ExpValue): ClassicValue {
  const base = 2 ** (2 ** -v.scale);
  const bounds: number[] = [];
  const counts: number[] = [];
  // Negative bucket i holds values in [-base^(i+1), -base^i): its upper bound is -base^i.
  for (let i = v.negative.counts.length - 1; i >= 0; i--) {
    const c = v.negative.counts[i]!;
    if (c === 0) continue;
    bounds.push(-(base ** (v.negative.offset + i)));
    counts.push(c);
  }
  if (v.zeroCount > 0 || bounds.length > 0) {
    bounds.push(v.zeroThreshold);
    counts.push(v.zeroCount);
  }
  for (let i = 0; i < v.positive.counts.length; i++) {
    const c = v.positive.counts[i]!;
    if (c === 0) continue;
    bounds.push(base ** (v.positive.offset + i + 1));
    counts.push(c);
  }
  // Everything is inside a finite bucket; the +Inf bucket adds nothing.
  counts.push(0);
  return { kind: 'histogram', bounds, counts, count: v.count, sum: v.sum };
}

/** Flat sample series of a point; exponential histograms in their classic form. */
export function flatten(p: Point): FlatSample[] {
  const out: FlatSample[] = [];
  const name = p.family.name;
  const v = p.value;
  switch (v.kind) {
    case 'number': out.push({ name, labels: p.labels, value: p.stale ? STALE_NAN : v.value }); break;
    case 'histogram': classic(name, p.labels, v, p.stale, out); break;
    case 'exponential': classic(name, p.labels, expToClassic(v), p.stale, out); break;
    case 'summary': summary(name, p.labels, v, p.stale, out); break;
  }
  return out;
}

/** Spans and deltas of OTel buckets, in Prometheus' indexing (one more than OTel's). */
export function spansAndDeltas(b: ExpBuckets): { spans: BucketSpan[]; deltas: number[] } {
  const spans: BucketSpan[] = [];
  const deltas: number[] = [];
  let prevCount = 0;
  let prevEnd: number | undefined;
  let current: BucketSpan | undefined;
  for (let i = 0; i < b.counts.length; i++) {
    const c = b.counts[i]!;
    if (c === 0) {
      current = undefined;
      continue;
    }
    const index = b.offset + i + 1;
    if (!current) {
      // The first span's offset is the absolute index, later ones the gap since the last span.
      current = { offset: prevEnd === undefined ? index : index - prevEnd, length: 0 };
      spans.push(current);
    }
    current.length++;
    prevEnd = index + 1;
    deltas.push(c - prevCount);
    prevCount = c;
  }
  return { spans, deltas };
}

/** A native histogram from an exponential one (schema = scale, already within -4..8). */
export function nativeHistogram(v: ExpValue, timestampMs: number, stale: boolean): NativeHistogram {
  if (stale) {
    return {
      count: 0, sum: STALE_NAN, schema: v.scale, zeroThreshold: v.zeroThreshold, zeroCount: 0,
      negativeSpans: [], negativeDeltas: [], positiveSpans: [], positiveDeltas: [], resetHint: ResetHint.UNKNOWN, timestamp: timestampMs,
    };
  }
  const pos = spansAndDeltas(v.positive);
  const neg = spansAndDeltas(v.negative);
  return {
    count: v.count,
    sum: v.sum ?? 0,
    schema: v.scale,
    zeroThreshold: v.zeroThreshold,
    zeroCount: v.zeroCount,
    negativeSpans: neg.spans,
    negativeDeltas: neg.deltas,
    positiveSpans: pos.spans,
    positiveDeltas: pos.deltas,
    resetHint: ResetHint.UNKNOWN,
    timestamp: timestampMs,
  };
}
