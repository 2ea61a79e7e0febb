// Pure helpers on pdata batches: split by item count, append, deep clone. Every one is O(items)
// or less and allocates only the wrappers it must: whole scopes and resources move into a part as
// they are. When a resource or scope is cut across parts, the later parts get their own copy of
// its header, so a processor that mutates one part can never change another.
//
// Decoded protobufjs messages keep proto3 defaults on their prototype and unset message fields
// as null there; everything here reads fields by property and treats null like undefined.
import type {
  AnyValue, Exemplar, ExponentialHistogramBuckets, ExponentialHistogramDataPoint, HistogramDataPoint, InstrumentationScope,
  KeyValue, LogRecord, LogsData, Metric, MetricsData, NumberDataPoint, Resource, ResourceLogs, ResourceMetrics,
  ResourceSpans, ScopeLogs, ScopeMetrics, ScopeSpans, Signal, SignalData, Span, SpanEvent, SpanLink, Status,
  SummaryDataPoint, SummaryValueAtQuantile, TracesData,
} from './pdata';
import { metricPointCount } from './pdata';

// ---- splitting -------------------------------------------------------------------------------

/**
 * How one signal nests: data -> resource entries -> scope entries -> items. Items weigh 1 except
 * metrics, which weigh their data points and can be cut into point ranges.
 */
interface Shape<D, R, C, I> {
  resources(d: D): R[];
  make(resources: R[]): D;
  scopes(r: R): C[];
  /** A new resource entry holding these scopes; `copy` clones the resource header. */
  withScopes(r: R, scopes: C[], copy: boolean): R;
  items(c: C): I[];
  withItems(c: C, items: I[], copy: boolean): C;
  weight(i: I): number;
  /** Every item weighs 1 (spans, log records). */
  unitWeight: boolean;
  /** The points [from, to) of an item weighing more than 1. */
  slice(i: I, from: number, to: number): I;
}

const tracesShape: Shape<TracesData, ResourceSpans, ScopeSpans, Span> = {
  resources: (d) => d.resourceSpans,
  make: (resourceSpans) => ({ resourceSpans }),
  scopes: (r) => r.scopeSpans,
  withScopes: (r, scopeSpans, copy) => withHeader<ResourceSpans>({ resource: copy ? cloneResourceOf(r.resource) : orUndef(r.resource), scopeSpans }, r.schemaUrl),
  items: (c) => c.spans,
  withItems: (c, spans, copy) => withHeader<ScopeSpans>({ scope: copy ? cloneScopeOf(c.scope) : orUndef(c.scope), spans }, c.schemaUrl),
  weight: () => 1,
  unitWeight: true,
  slice: (i) => i,
};

const logsShape: Shape<LogsData, ResourceLogs, ScopeLogs, LogRecord> = {
  resources: (d) => d.resourceLogs,
  make: (resourceLogs) => ({ resourceLogs }),
  scopes: (r) => r.scopeLogs,
  withScopes: (r, scopeLogs, copy) => withHeader<ResourceLogs>({ resource: copy ? cloneResourceOf(r.resource) : orUndef(r.resource), scopeLogs }, r.schemaUrl),
  items: (c) => c.logRecords,
  withItems: (c, logRecords, copy) => withHeader<ScopeLogs>({ scope: copy ? cloneScopeOf(c.scope) : orUndef(c.scope), logRecords }, c.schemaUrl),
  weight: () => 1,
  unitWeight: true,
  slice: (i) => i,
};

const metricsShape: Shape<MetricsData, ResourceMetrics, ScopeMetrics, Metric> = {
  resources: (d) => d.resourceMetrics,
  make: (resourceMetrics) => ({ resourceMetrics }),
  scopes: (r) => r.scopeMetrics,
  withScopes: (r, scopeMetrics, copy) => withHeader<ResourceMetrics>({ resource: copy ? cloneResourceOf(r.resource) : orUndef(r.resource), scopeMetrics }, r.schemaUrl),
  items: (c) => c.metrics,
  withItems: (c, metrics, copy) => withHeader<ScopeMetrics>({ scope: copy ? cloneScopeOf(c.scope) : orUndef(c.scope), metrics }, c.schemaUrl),
  weight: metricPointCount,
  unitWeight: false,
  slice: sliceMetric,
};

const SHAPES = { traces: tracesShape, metrics: metricsShape, logs: logsShape } as const;

function shapeOf<S extends Signal>(signal: S): Shape<SignalData[S], unknown, unknown, unknown> {
  return SHAPES[signal] as unknown as Shape<SignalData[S], unknown, unknown, unknown>;
}

function orUndef<T>(v: T | null | undefined): T | undefined {
  return v === null ? undefined : v;
}

function withHeader<T extends { schemaUrl?: string }>(o: T, schemaUrl: string | null | undefined): T {
  if (schemaUrl != null) o.schemaUrl = schemaUrl;
  return o;
}

/** Collects parts: the first holds at most `first` items, every later one at most `rest`. */
class PartBuilder<D, R, C, I> {
  readonly parts: D[] = [];
  private resources: R[] = [];
  private scopes: C[] = [];
  private items: I[] = [];
  room: number;

  constructor(private readonly shape: Shape<D, R, C, I>, first: number, private readonly rest: number) {
    this.room = first;
  }

  /** Closes the current part: what has been gathered of scope `c` in resource `r` goes with it. */
  cut(r: R, c: C, state: CutState): void {
    this.closeScope(c, state);
    this.closeResource(r, state);
    this.parts.push(this.shape.make(this.resources));
    this.resources = [];
    this.room = this.rest;
  }

  addItem(i: I, weight: number): void {
    this.items.push(i);
    this.room -= weight;
  }

  addRange(items: I[], from: number, to: number): void {
    if (this.items.length === 0) this.items = items.slice(from, to);
    else for (let i = from; i < to; i++) this.items.push(items[i]!);
    this.room -= to - from;
  }

  addScope(c: C, weight: number): void {
    this.scopes.push(c);
    this.room -= weight;
  }

  closeScope(c: C, state: CutState): void {
    if (this.items.length === 0) return;
    this.scopes.push(this.shape.withItems(c, this.items, state.scopeCut));
    this.items = [];
    state.scopeCut = true;
  }

  closeResource(r: R, state: CutState): void {
    if (this.scopes.length === 0) return;
    this.resources.push(this.shape.withScopes(r, this.scopes, state.resourceCut));
    this.scopes = [];
    state.resourceCut = true;
  }

  /** A resource that was never cut goes in as it is. */
  addWholeResource(r: R): void {
    this.resources.push(r);
    this.scopes = [];
  }

  finish(): D[] {
    if (this.resources.length > 0 || this.parts.length === 0) this.parts.push(this.shape.make(this.resources));
    return this.parts;
  }
}

interface CutState { resourceCut: boolean; scopeCut: boolean }

function splitWith<D, R, C, I>(shape: Shape<D, R, C, I>, data: D, first: number, rest: number): D[] {
  const b = new PartBuilder(shape, first, rest);
  for (const r of shape.resources(data)) {
    const state: CutState = { resourceCut: false, scopeCut: false };
    let intact = true;
    for (const c of shape.scopes(r)) {
      const items = shape.items(c);
      const w = totalWeight(shape, items);
      if (w <= b.room) {
        b.addScope(c, w);
        continue;
      }
      intact = false;
      state.scopeCut = false;
      splitScope(shape, b, r, c, items, state);
      b.closeScope(c, state);
    }
    if (intact) b.addWholeResource(r);
    else b.closeResource(r, state);
  }
  return b.finish();
}

function splitScope<D, R, C, I>(shape: Shape<D, R, C, I>, b: PartBuilder<D, R, C, I>, r: R, c: C, items: I[], state: CutState): void {
  if (shape.unitWeight) {
    splitUnitScope(b, r, c, items, state);
    return;
  }
  for (const item of items) {
    const w = shape.weight(item);
    if (w <= b.room) {
      b.addItem(item, w);
      continue;
    }
    // Only metrics weigh more than 1: cut their points across parts.
    let from = 0;
    while (w - from > b.room) {
      const take = b.room;
      if (take > 0) {
        b.addItem(shape.slice(item, from, from + take), take);
        from += take;
      }
      b.cut(r, c, state);
    }
    b.addItem(from === 0 ? item : shape.slice(item, from, w), w - from);
  }
}

/** Spans and log records weigh 1: cut the list into ranges rather than item by item. */
function splitUnitScope<D, R, C, I>(b: PartBuilder<D, R, C, I>, r: R, c: C, items: I[], state: CutState): void {
  let i = 0;
  while (i < items.length) {
    if (b.room <= 0) b.cut(r, c, state);
    const take = Math.min(b.room, items.length - i);
    b.addRange(items, i, i + take);
    i += take;
  }
}

function totalWeight<I>(shape: Shape<unknown, unknown, unknown, I>, items: I[]): number {
  if (shape.unitWeight) return items.length;
  let n = 0;
  for (const i of items) n += shape.weight(i);
  return n;
}

function checkMax(max: number): void {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`split size must be a positive integer, got ${max}`);
}

/**
 * Splits a batch into parts of at most `max` items (spans, data points, log records), in order.
 * Each part keeps the resource and scope of its items; a metric cut across parts keeps its name,
 * unit and type in each. A batch that fits is returned as the only part, untouched.
 */
export function splitByItems<S extends Signal>(signal: S, data: SignalData[S], max: number): SignalData[S][] {
  checkMax(max);
  return countAtMost(signal, data, max) ? [data] : splitWith(shapeOf(signal), data, max, max);
}

function countAtMost<S extends Signal>(signal: S, data: SignalData[S], max: number): boolean {
  const shape = shapeOf(signal);
  let n = 0;
  for (const r of shape.resources(data)) {
    for (const c of shape.scopes(r)) {
      n += totalWeight(shape, shape.items(c));
      if (n > max) return false;
    }
  }
  return true;
}

/** The first `n` items of a batch and the rest (either may be empty), without copying items. */
export function splitAt<S extends Signal>(signal: S, data: SignalData[S], n: number): [SignalData[S], SignalData[S]] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`split point must be a non-negative integer, got ${n}`);
  const shape = shapeOf(signal);
  const parts = splitWith(shape, data, n, Number.MAX_SAFE_INTEGER);
  if (parts.length === 1) {
    // Everything fitted in the head (or n covered it all).
    return [parts[0]!, shape.make([])];
  }
  return [parts[0]!, parts[1]!];
}

// ---- appending -------------------------------------------------------------------------------

/** Moves every resource entry of `from` to the end of `into` (resources are not merged). */
export function appendData<S extends Signal>(signal: S, into: SignalData[S], from: SignalData[S]): SignalData[S] {
  const shape = shapeOf(signal);
  const dst = shape.resources(into);
  // A loop, not push(...src): spreading a long list overflows the stack.
  for (const r of shape.resources(from)) dst.push(r);
  return into;
}

// ---- metric slicing ----------------------------------------------------------------------------

function sliceMetric(m: Metric, from: number, to: number): Metric {
  const out = metricHeader(m);
  if (m.gauge != null) out.gauge = { dataPoints: m.gauge.dataPoints.slice(from, to) };
  else if (m.sum != null) out.sum = withOptional({ dataPoints: m.sum.dataPoints.slice(from, to) }, m.sum, SUM_KEYS);
  else if (m.histogram != null) out.histogram = withOptional({ dataPoints: m.histogram.dataPoints.slice(from, to) }, m.histogram, TEMPORALITY_KEYS);
  else if (m.exponentialHistogram != null) {
    out.exponentialHistogram = withOptional({ dataPoints: m.exponentialHistogram.dataPoints.slice(from, to) }, m.exponentialHistogram, TEMPORALITY_KEYS);
  } else if (m.summary != null) out.summary = { dataPoints: m.summary.dataPoints.slice(from, to) };
  return out;
}

/** Name, description, unit and metadata of a metric, copied so each part owns its own. */
function metricHeader(m: Metric): Metric {
  const out = withOptional({} as Metric, m, METRIC_KEYS);
  if (m.metadata != null) out.metadata = cloneAttributes(m.metadata);
  return out;
}

// ---- cloning ---------------------------------------------------------------------------------

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Whether a oneof member or proto3 `optional` field is set. Decoded messages keep unset scalar
 * members on the prototype with their default value (an unset stringValue reads as ''), so
 * presence is an own property, as protobufjs itself decides.
 */
export function isSet<T extends object>(obj: T, key: keyof T): boolean {
  return hasOwn.call(obj, key) && obj[key] != null;
}

/** Copies the listed oneof / optional members that are set (see isSet). */
function withPresent<T extends object>(out: T, from: T, keys: readonly (keyof T)[]): T {
  for (const k of keys) if (isSet(from, k)) out[k] = from[k];
  return out;
}

/** Copies the listed scalar fields that read as something other than null/undefined. */
function withOptional<T extends object>(out: T, from: T, keys: readonly (keyof T)[]): T {
  for (const k of keys) {
    const v = from[k];
    if (v != null) out[k] = v;
  }
  return out;
}

const METRIC_KEYS = ['name', 'description', 'unit'] as const satisfies readonly (keyof Metric)[];
const SUM_KEYS = ['aggregationTemporality', 'isMonotonic'] as const;
const TEMPORALITY_KEYS = ['aggregationTemporality'] as const;
const RESOURCE_KEYS = ['droppedAttributesCount'] as const;
const SCOPE_KEYS = ['name', 'version', 'droppedAttributesCount'] as const;
const SPAN_KEYS = ['traceState', 'flags', 'name', 'kind', 'startTimeUnixNano', 'endTimeUnixNano', 'droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount'] as const;
const EVENT_KEYS = ['timeUnixNano', 'name', 'droppedAttributesCount'] as const;
const LINK_KEYS = ['traceState', 'droppedAttributesCount', 'flags'] as const;
const STATUS_KEYS = ['message', 'code'] as const;
const LOG_KEYS = ['timeUnixNano', 'observedTimeUnixNano', 'severityNumber', 'severityText', 'droppedAttributesCount', 'flags', 'eventName'] as const;
const POINT_KEYS = ['startTimeUnixNano', 'timeUnixNano', 'flags'] as const;
const NUMBER_VALUE_KEYS = ['asDouble', 'asInt'] as const;
const HISTOGRAM_POINT_KEYS = [...POINT_KEYS, 'count'] as const;
const EXP_POINT_KEYS = [...POINT_KEYS, 'count', 'scale', 'zeroCount', 'zeroThreshold'] as const;
/** proto3 `optional` in histograms: absent differs from 0. */
const OPTIONAL_STATS_KEYS = ['sum', 'min', 'max'] as const;
const SUMMARY_POINT_KEYS = [...POINT_KEYS, 'count', 'sum'] as const;
const EXEMPLAR_KEYS = ['timeUnixNano'] as const;
const ANY_SCALAR_KEYS = ['stringValue', 'boolValue', 'intValue', 'doubleValue'] as const;

/** A fresh copy of the bytes (a decoded id may be a view into a large request buffer). */
function copyBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

function copyBytesInto<T extends object, K extends keyof T>(out: T, from: T, key: K): void {
  const v = from[key];
  if (v != null) out[key] = copyBytes(v as unknown as Uint8Array) as T[K];
}

function mapList<T>(list: readonly T[] | null | undefined, f: (v: T) => T): T[] {
  if (list == null) return [];
  const out = new Array<T>(list.length);
  for (let i = 0; i < list.length; i++) out[i] = f(list[i]!);
  return out;
}

export function cloneAnyValue(v: AnyValue): AnyValue {
  const out = withPresent({} as AnyValue, v, ANY_SCALAR_KEYS);
  if (isSet(v, 'bytesValue')) out.bytesValue = copyBytes(v.bytesValue!);
  if (v.arrayValue != null) out.arrayValue = { values: mapList(v.arrayValue.values, cloneAnyValue) };
  if (v.kvlistValue != null) out.kvlistValue = { values: cloneAttributes(v.kvlistValue.values) };
  return out;
}

function cloneKeyValue(kv: KeyValue): KeyValue {
  const out: KeyValue = { key: kv.key ?? '' };
  if (kv.value != null) out.value = cloneAnyValue(kv.value);
  return out;
}

export function cloneAttributes(list: readonly KeyValue[] | null | undefined): KeyValue[] {
  return mapList(list, cloneKeyValue);
}

export function cloneResource(r: Resource): Resource {
  return withOptional({ attributes: cloneAttributes(r.attributes) } as Resource, r, RESOURCE_KEYS);
}

export function cloneScope(s: InstrumentationScope): InstrumentationScope {
  return withOptional({ attributes: cloneAttributes(s.attributes) } as InstrumentationScope, s, SCOPE_KEYS);
}

function cloneResourceOf(r: Resource | null | undefined): Resource | undefined {
  return r == null ? undefined : cloneResource(r);
}

function cloneScopeOf(s: InstrumentationScope | null | undefined): InstrumentationScope | undefined {
  return s == null ? undefined : cloneScope(s);
}

function cloneEvent(e: SpanEvent): SpanEvent {
  return withOptional({ attributes: cloneAttributes(e.attributes) } as SpanEvent, e, EVENT_KEYS);
}

function cloneLink(l: SpanLink): SpanLink {
  const out = withOptional({ attributes: cloneAttributes(l.attributes) } as SpanLink, l, LINK_KEYS);
  copyBytesInto(out, l, 'traceId');
  copyBytesInto(out, l, 'spanId');
  return out;
}

export function cloneSpan(s: Span): Span {
  const out = withOptional({
    attributes: cloneAttributes(s.attributes),
    events: mapList(s.events, cloneEvent),
    links: mapList(s.links, cloneLink),
  } as Span, s, SPAN_KEYS);
  copyBytesInto(out, s, 'traceId');
  copyBytesInto(out, s, 'spanId');
  copyBytesInto(out, s, 'parentSpanId');
  if (s.status != null) out.status = withOptional({} as Status, s.status, STATUS_KEYS);
  return out;
}

export function cloneLogRecord(l: LogRecord): LogRecord {
  const out = withOptional({ attributes: cloneAttributes(l.attributes) } as LogRecord, l, LOG_KEYS);
  if (l.body != null) out.body = cloneAnyValue(l.body);
  copyBytesInto(out, l, 'traceId');
  copyBytesInto(out, l, 'spanId');
  return out;
}

function cloneExemplar(e: Exemplar): Exemplar {
  const out = withOptional({ filteredAttributes: cloneAttributes(e.filteredAttributes) } as Exemplar, e, EXEMPLAR_KEYS);
  withPresent(out, e, NUMBER_VALUE_KEYS);
  copyBytesInto(out, e, 'spanId');
  copyBytesInto(out, e, 'traceId');
  return out;
}

function cloneNumberPoint(p: NumberDataPoint): NumberDataPoint {
  const out = withOptional({ attributes: cloneAttributes(p.attributes), exemplars: mapList(p.exemplars, cloneExemplar) } as NumberDataPoint, p, POINT_KEYS);
  return withPresent(out, p, NUMBER_VALUE_KEYS);
}

function cloneHistogramPoint(p: HistogramDataPoint): HistogramDataPoint {
  const out = withOptional({
    attributes: cloneAttributes(p.attributes),
    bucketCounts: copyList(p.bucketCounts),
    explicitBounds: copyList(p.explicitBounds),
    exemplars: mapList(p.exemplars, cloneExemplar),
  } as HistogramDataPoint, p, HISTOGRAM_POINT_KEYS);
  return withPresent(out, p, OPTIONAL_STATS_KEYS);
}

function cloneBuckets(b: ExponentialHistogramBuckets): ExponentialHistogramBuckets {
  const out: ExponentialHistogramBuckets = { bucketCounts: copyList(b.bucketCounts) };
  if (b.offset != null) out.offset = b.offset;
  return out;
}

function cloneExpPoint(p: ExponentialHistogramDataPoint): ExponentialHistogramDataPoint {
  const out = withOptional({ attributes: cloneAttributes(p.attributes), exemplars: mapList(p.exemplars, cloneExemplar) } as ExponentialHistogramDataPoint, p, EXP_POINT_KEYS);
  withPresent(out, p, OPTIONAL_STATS_KEYS);
  if (p.positive != null) out.positive = cloneBuckets(p.positive);
  if (p.negative != null) out.negative = cloneBuckets(p.negative);
  return out;
}

function cloneSummaryPoint(p: SummaryDataPoint): SummaryDataPoint {
  return withOptional({
    attributes: cloneAttributes(p.attributes),
    quantileValues: mapList(p.quantileValues, (q) => withOptional<SummaryValueAtQuantile>({}, q, ['quantile', 'value'])),
  } as SummaryDataPoint, p, SUMMARY_POINT_KEYS);
}

/** Longs are immutable, numbers are values: a shallow copy of the list is a deep one. */
function copyList<T>(list: readonly T[] | null | undefined): T[] {
  return list == null ? [] : Array.from(list);
}

export function cloneMetric(m: Metric): Metric {
  const out = metricHeader(m);
  if (m.gauge != null) out.gauge = { dataPoints: mapList(m.gauge.dataPoints, cloneNumberPoint) };
  else if (m.sum != null) out.sum = withOptional({ dataPoints: mapList(m.sum.dataPoints, cloneNumberPoint) }, m.sum, SUM_KEYS);
  else if (m.histogram != null) out.histogram = withOptional({ dataPoints: mapList(m.histogram.dataPoints, cloneHistogramPoint) }, m.histogram, TEMPORALITY_KEYS);
  else if (m.exponentialHistogram != null) {
    out.exponentialHistogram = withOptional({ dataPoints: mapList(m.exponentialHistogram.dataPoints, cloneExpPoint) }, m.exponentialHistogram, TEMPORALITY_KEYS);
  } else if (m.summary != null) out.summary = { dataPoints: mapList(m.summary.dataPoints, cloneSummaryPoint) };
  return out;
}

function cloneTraces(d: TracesData): TracesData {
  return {
    resourceSpans: mapList(d.resourceSpans, (rs) => withHeader<ResourceSpans>({
      resource: cloneResourceOf(rs.resource),
      scopeSpans: mapList(rs.scopeSpans, (ss) => withHeader<ScopeSpans>({ scope: cloneScopeOf(ss.scope), spans: mapList(ss.spans, cloneSpan) }, ss.schemaUrl)),
    }, rs.schemaUrl)),
  };
}

function cloneMetrics(d: MetricsData): MetricsData {
  return {
    resourceMetrics: mapList(d.resourceMetrics, (rm) => withHeader<ResourceMetrics>({
      resource: cloneResourceOf(rm.resource),
      scopeMetrics: mapList(rm.scopeMetrics, (sm) => withHeader<ScopeMetrics>({ scope: cloneScopeOf(sm.scope), metrics: mapList(sm.metrics, cloneMetric) }, sm.schemaUrl)),
    }, rm.schemaUrl)),
  };
}

function cloneLogs(d: LogsData): LogsData {
  return {
    resourceLogs: mapList(d.resourceLogs, (rl) => withHeader<ResourceLogs>({
      resource: cloneResourceOf(rl.resource),
      scopeLogs: mapList(rl.scopeLogs, (sl) => withHeader<ScopeLogs>({ scope: cloneScopeOf(sl.scope), logRecords: mapList(sl.logRecords, cloneLogRecord) }, sl.schemaUrl)),
    }, rl.schemaUrl)),
  };
}

/**
 * A deep copy for fan-out to a consumer that mutates. Fields are read by property, so defaults a
 * decoded message keeps on its prototype become own fields of the copy; unset fields stay unset.
 */
export function cloneData<S extends Signal>(signal: S, data: SignalData[S]): SignalData[S] {
  switch (signal) {
    case 'traces': return cloneTraces(data as TracesData) as SignalData[S];
    case 'metrics': return cloneMetrics(data as MetricsData) as SignalData[S];
    default: return cloneLogs(data as LogsData) as SignalData[S];
  }
}
