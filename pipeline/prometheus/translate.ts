// OTLP metrics (pdata) -> Prometheus points, shared by the remote-write and the pull exporters,
// after the OpenTelemetry "Prometheus and OpenMetrics compatibility" spec:
// - names and label names through naming.ts; labels from the point's attributes (colliding
//   names join their values with ";" in key order), job = service.namespace/service.name,
//   instance = service.instance.id, otel_scope_name / otel_scope_version, then external/const
//   labels where no attribute set them; all resource attributes as labels only with
//   resource_to_telemetry_conversion;
// - one target_info point per resource holding its other attributes;
// - monotonic sums are counters, gauges and non-monotonic sums gauges, histograms stay classic,
//   exponential histograms become native histograms (scale above 8 lowered to 8), summaries stay;
// - delta sums and histograms go through the cumulative tracker;
// - a point with the NoRecordedValue flag becomes a staleness marker.
// Nothing is thrown for bad input: what cannot be converted is reported to `drop` with a reason.
import type Long from 'long';
import { isSet } from '../pdata-ops';
import {
  AggregationTemporality, type AnyValue, type ExponentialHistogramDataPoint, type HistogramDataPoint, type InstrumentationScope,
  type Exemplar, type Int64, type KeyValue, type Metric, type MetricsData, type Nanos, type NumberDataPoint, type Resource, type SummaryDataPoint,
} from '../pdata';
import type { CumulativeTracker } from './cumulative';
import { downscale } from './cumulative';
import { type Family, type FamilyType, type Point, type PointValue, type PromExemplar, type PromLabel, seriesKey } from './model';
import { labelName, metricName, unitSuffix, type NamingOptions } from './naming';

export interface TranslateOptions extends NamingOptions {
  /** Every resource attribute becomes a label of every series. */
  resourceToTelemetry: boolean;
  /** One target_info series per resource. */
  targetInfo: boolean;
  /** Added to every series unless an attribute already gave that label (external_labels, const_labels). */
  extraLabels: PromLabel[];
}

/** Called for points that cannot be converted: `reason` becomes the dropped counter's reason. */
export type DropFunc = (reason: string, points: number) => void;

/** The NoRecordedValue data point flag. */
const NO_RECORDED_VALUE = 1;
/** Prometheus native histogram schemas. */
const MAX_SCHEMA = 8;
const MIN_SCHEMA = -4;

const IDENTIFYING = new Set(['service.name', 'service.namespace', 'service.instance.id']);

export function translate(data: MetricsData, opts: TranslateOptions, tracker: CumulativeTracker, drop: DropFunc, now: () => number = Date.now): Point[] {
  const out: Point[] = [];
  for (const rm of data.resourceMetrics ?? []) {
    const resource = rm.resource ?? undefined;
    const identity = identityLabels(resource);
    const promoted = opts.resourceToTelemetry ? resource?.attributes ?? [] : [];
    let latest = 0;
    for (const sm of rm.scopeMetrics ?? []) {
      const scope = scopeLabels(sm.scope ?? undefined);
      for (const m of sm.metrics ?? []) {
        const before = out.length;
        translateMetric(m, { identity, promoted, scope, extra: opts.extraLabels }, opts, tracker, drop, now, out);
        for (let i = before; i < out.length; i++) if (out[i]!.timestampMs > latest) latest = out[i]!.timestampMs;
      }
    }
    if (opts.targetInfo) {
      const info = targetInfo(resource, identity, opts, latest || now());
      if (info) out.push(info);
    }
  }
  return out;
}

interface LabelContext { identity: PromLabel[]; promoted: KeyValue[]; scope: PromLabel[]; extra: PromLabel[] }

function identityLabels(resource: Resource | undefined): PromLabel[] {
  const attrs = resource?.attributes ?? [];
  const get = (k: string): string | undefined => {
    const kv = attrs.find((a) => a.key === k);
    return kv ? anyValueString(kv.value) : undefined;
  };
  const out: PromLabel[] = [];
  const name = get('service.name');
  const ns = get('service.namespace');
  if (name) out.push({ name: 'job', value: ns ? `${ns}/${name}` : name });
  const instance = get('service.instance.id');
  if (instance) out.push({ name: 'instance', value: instance });
  return out;
}

function scopeLabels(scope: InstrumentationScope | undefined): PromLabel[] {
  if (!scope?.name) return [];
  const out: PromLabel[] = [{ name: 'otel_scope_name', value: scope.name }];
  if (scope.version) out.push({ name: 'otel_scope_version', value: scope.version });
  return out;
}

/**
 * The labels of one series. Attributes first (sorted by key so that colliding names join their
 * values in a stable order), promoted resource attributes where free, then job/instance and
 * the scope labels (they win), then extra labels where free, then the type's own (le, quantile
 * are added by the writers). Empty values are left out: Prometheus treats them as absent.
 */
export function buildLabels(attributes: readonly KeyValue[], ctx: LabelContext): PromLabel[] {
  const map = new Map<string, string>();
  addAttributes(map, attributes, true);
  addAttributes(map, ctx.promoted, false);
  for (const l of ctx.identity) map.set(l.name, l.value);
  for (const l of ctx.scope) map.set(l.name, l.value);
  for (const l of ctx.extra) if (!map.has(l.name)) map.set(l.name, l.value);
  return sortedLabels(map);
}

function addAttributes(map: Map<string, string>, attributes: readonly KeyValue[], join: boolean): void {
  if (!attributes.length) return;
  const sorted = attributes.length > 1 ? [...attributes].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) : attributes;
  const own = new Map<string, string>();
  for (const kv of sorted) {
    const name = labelName(kv.key ?? '');
    if (!name) continue;
    const value = anyValueString(kv.value);
    const prev = own.get(name);
    own.set(name, prev === undefined || !join ? value : `${prev};${value}`);
  }
  for (const [k, v] of own) if (join || !map.has(k)) map.set(k, v);
}

function sortedLabels(map: Map<string, string>): PromLabel[] {
  const out: PromLabel[] = [];
  for (const [name, value] of map) if (value !== '') out.push({ name, value });
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

/** An attribute value as a label value: scalars as text, lists and maps as JSON. */
export function anyValueString(v: AnyValue | null | undefined): string {
  if (v == null) return '';
  if (isSet(v, 'stringValue')) return v.stringValue!;
  if (isSet(v, 'boolValue')) return v.boolValue ? 'true' : 'false';
  if (isSet(v, 'intValue')) return String(v.intValue);
  if (isSet(v, 'doubleValue')) return formatFloat(v.doubleValue!);
  if (isSet(v, 'bytesValue')) return Buffer.from(v.bytesValue!).toString('base64');
  if (v.arrayValue != null || v.kvlistValue != null) return JSON.stringify(anyValueJson(v));
  // A hand-built value may set a member without it being an own property of a decoded message.
  return v.stringValue ?? '';
}

function anyValueJson(v: AnyValue | null | undefined): unknown {
  if (v == null) return null;
  if (v.arrayValue != null) return (v.arrayValue.values ?? []).map(anyValueJson);
  if (v.kvlistValue != null) return Object.fromEntries((v.kvlistValue.values ?? []).map((kv) => [kv.key, anyValueJson(kv.value)]));
  if (isSet(v, 'stringValue')) return v.stringValue;
  if (isSet(v, 'boolValue')) return v.boolValue;
  if (isSet(v, 'intValue')) return typeof v.intValue === 'number' ? v.intValue : String(v.intValue);
  if (isSet(v, 'doubleValue')) return v.doubleValue;
  if (isSet(v, 'bytesValue')) return Buffer.from(v.bytesValue!).toString('base64');
  return null;
}

/** Go's strconv.FormatFloat(v, 'g', -1, 64) spelling for the common cases: what Prometheus writes. */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function toNumber(v: Int64 | null | undefined): number {
  if (v == null) return 0;
  return typeof v === 'number' ? v : (v as Long).toNumber();
}

function nanosToMs(n: Nanos | number | null | undefined): number {
  if (n == null) return 0;
  if (typeof n === 'number') return Math.floor(n / 1e6);
  // Integer division on the Long: toNumber() first would round 1.7e18 to a multiple of 256.
  return n.isZero() ? 0 : n.div(1_000_000).toNumber();
}

function familyOf(m: Metric, type: FamilyType, kind: 'counter' | 'gauge' | 'other', opts: NamingOptions): Family | undefined {
  const name = metricName({ name: m.name ?? '', unit: m.unit ?? '', kind }, opts);
  if (!name) return undefined;
  const { main, per } = unitSuffix(m.unit ?? '');
  return { name, type, help: m.description ?? '', unit: per ? (main ? `${main}_per_${per}` : `per_${per}`) : main };
}

function translateMetric(m: Metric, ctx: LabelContext, opts: TranslateOptions, tracker: CumulativeTracker, drop: DropFunc, now: () => number, out: Point[]): void {
  const points = (m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary)?.dataPoints ?? [];
  if (points.length === 0) return;
  let family: Family | undefined;
  let delta = false;
  if (m.gauge != null) {
    family = familyOf(m, 'gauge', 'gauge', opts);
  } else if (m.sum != null) {
    const t = m.sum.aggregationTemporality ?? AggregationTemporality.UNSPECIFIED;
    if (t === AggregationTemporality.UNSPECIFIED) return drop('unspecified_temporality', points.length);
    delta = t === AggregationTemporality.DELTA;
    family = m.sum.isMonotonic ? familyOf(m, 'counter', 'counter', opts) : familyOf(m, 'gauge', 'gauge', opts);
  } else if (m.histogram != null || m.exponentialHistogram != null) {
    const t = (m.histogram ?? m.exponentialHistogram)!.aggregationTemporality ?? AggregationTemporality.UNSPECIFIED;
    if (t === AggregationTemporality.UNSPECIFIED) return drop('unspecified_temporality', points.length);
    delta = t === AggregationTemporality.DELTA;
    family = familyOf(m, 'histogram', 'other', opts);
  } else if (m.summary != null) {
    family = familyOf(m, 'summary', 'other', opts);
  } else {
    return;
  }
  if (!family) return drop('invalid_metric_name', points.length);

  for (const p of points) {
    const raw = pointValue(m, p);
    if (typeof raw === 'string') {
      drop(raw, 1);
      continue;
    }
    const labels = buildLabels(p.attributes ?? [], ctx);
    const timestampMs = nanosToMs(p.timeUnixNano) || now();
    const stale = ((p.flags ?? 0) & NO_RECORDED_VALUE) !== 0;
    let value: PointValue = raw;
    let startMs = nanosToMs(p.startTimeUnixNano);
    if (delta && !stale) {
      const r = tracker.accumulate(seriesKey(family.name, labels), raw, startMs, timestampMs);
      if (!r.ok) {
        drop(r.reason, 1);
        continue;
      }
      value = r.value;
      startMs = r.startMs;
    }
    out.push({ family, labels, timestampMs, startMs, stale, value, exemplars: stale ? [] : exemplarsOf((p as { exemplars?: Exemplar[] }).exemplars) });
  }
}

type AnyPoint = NumberDataPoint | HistogramDataPoint | ExponentialHistogramDataPoint | SummaryDataPoint;

/** The point's value, or the reason it cannot be converted. */
function pointValue(m: Metric, p: AnyPoint): PointValue | string {
  if (m.gauge != null || m.sum != null) {
    const n = p as NumberDataPoint;
    return { kind: 'number', value: isSet(n, 'asInt') ? toNumber(n.asInt) : n.asDouble ?? toNumber(n.asInt) };
  }
  if (m.histogram != null) {
    const h = p as HistogramDataPoint;
    const bounds = [...(h.explicitBounds ?? [])];
    const counts = (h.bucketCounts ?? []).map(toNumber);
    // No buckets at all is valid OTLP (count and sum only): one +Inf bucket.
    if (counts.length === 0) counts.push(toNumber(h.count));
    if (counts.length !== bounds.length + 1) return 'invalid_histogram_buckets';
    return { kind: 'histogram', bounds, counts, count: toNumber(h.count), sum: hasSum(h) ? h.sum! : undefined };
  }
  if (m.exponentialHistogram != null) {
    const e = p as ExponentialHistogramDataPoint;
    const scale = e.scale ?? 0;
    if (scale < MIN_SCHEMA) return 'invalid_exponential_scale';
    const v: PointValue = {
      kind: 'exponential',
      scale,
      zeroThreshold: e.zeroThreshold ?? 0,
      zeroCount: toNumber(e.zeroCount),
      count: toNumber(e.count),
      sum: hasSum(e) ? e.sum! : undefined,
      positive: { offset: e.positive?.offset ?? 0, counts: (e.positive?.bucketCounts ?? []).map(toNumber) },
      negative: { offset: e.negative?.offset ?? 0, counts: (e.negative?.bucketCounts ?? []).map(toNumber) },
    };
    return scale > MAX_SCHEMA ? downscale(v, scale - MAX_SCHEMA) : v;
  }
  const s = p as SummaryDataPoint;
  return {
    kind: 'summary',
    count: toNumber(s.count),
    sum: s.sum ?? 0,
    quantiles: (s.quantileValues ?? []).map((q) => ({ quantile: q.quantile ?? 0, value: q.value ?? 0 })),
  };
}

/** sum is proto3 optional in histograms: absent (not 0) means unknown. */
function hasSum(p: HistogramDataPoint | ExponentialHistogramDataPoint): boolean {
  return isSet(p, 'sum');
}

function targetInfo(resource: Resource | undefined, identity: PromLabel[], opts: TranslateOptions, timestampMs: number): Point | undefined {
  const attrs = (resource?.attributes ?? []).filter((a) => !IDENTIFYING.has(a.key));
  if (attrs.length === 0) return undefined;
  const name = opts.namespace ? `${metricName({ name: opts.namespace, unit: '', kind: 'other' }, { namespace: '', addMetricSuffixes: opts.addMetricSuffixes })}_target_info` : 'target_info';
  const labels = buildLabels(attrs, { identity, promoted: [], scope: [], extra: opts.extraLabels });
  return {
    family: { name, type: 'info', help: 'Target metadata', unit: '' },
    labels,
    timestampMs,
    startMs: 0,
    stale: false,
    value: { kind: 'number', value: 1 },
    exemplars: [],
  };
}

function hex(id: Uint8Array | null | undefined): string {
  return id && id.length ? Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex') : '';
}

/** trace_id and span_id (hex) and the filtered attributes, as the Collector sends them. */
function exemplarsOf(list: readonly Exemplar[] | null | undefined): PromExemplar[] {
  if (!list?.length) return [];
  return list.map((e) => {
    const map = new Map<string, string>();
    addAttributes(map, e.filteredAttributes ?? [], true);
    const traceId = hex(e.traceId);
    const spanId = hex(e.spanId);
    if (traceId) map.set('trace_id', traceId);
    if (spanId) map.set('span_id', spanId);
    return { labels: sortedLabels(map), value: isSet(e, 'asInt') ? toNumber(e.asInt) : e.asDouble ?? toNumber(e.asInt), timestampMs: nanosToMs(e.timeUnixNano) };
  });
}
