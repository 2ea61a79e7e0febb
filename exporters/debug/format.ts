// Human-readable text for a batch at each verbosity:
//   basic     one summary line per batch;
//   normal    the summary, then one line per span / metric / log record;
//   detailed  the summary, then every resource, scope and item with all their fields.
// Fields read as absent (undefined or null) print as their proto3 default.
import Long from 'long';
import type {
  AnyValue, Exemplar, ExponentialHistogramBuckets, ExponentialHistogramDataPoint, HistogramDataPoint, InstrumentationScope,
  Int64, KeyValue, LogRecord, LogsData, Metric, MetricsData, NumberDataPoint, Resource, Signal, SignalData, Span,
  SummaryDataPoint, TracesData,
} from '../../pipeline/pdata';
import { countItems, idToHex, metricPointCount } from '../../pipeline/pdata';
import { isSet } from '../../pipeline/pdata-ops';
import type { Verbosity } from './config';

export function formatBatch<S extends Signal>(signal: S, data: SignalData[S], verbosity: Verbosity): string[] {
  const out = [summary(signal, data)];
  if (verbosity === 'basic') return out;
  switch (signal) {
    case 'traces': (verbosity === 'normal' ? normalTraces : detailedTraces)(data as TracesData, out); break;
    case 'metrics': (verbosity === 'normal' ? normalMetrics : detailedMetrics)(data as MetricsData, out); break;
    default: (verbosity === 'normal' ? normalLogs : detailedLogs)(data as LogsData, out);
  }
  return out;
}

function summary<S extends Signal>(signal: S, data: SignalData[S]): string {
  const items = countItems(signal, data);
  switch (signal) {
    case 'traces': return `Traces: resource spans ${(data as TracesData).resourceSpans.length}, spans ${items}`;
    case 'metrics': {
      const d = data as MetricsData;
      let metrics = 0;
      for (const rm of d.resourceMetrics) for (const sm of rm.scopeMetrics) metrics += sm.metrics.length;
      return `Metrics: resource metrics ${d.resourceMetrics.length}, metrics ${metrics}, data points ${items}`;
    }
    default: return `Logs: resource logs ${(data as LogsData).resourceLogs.length}, log records ${items}`;
  }
}

// ---- values ----------------------------------------------------------------------------------

const SPAN_KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
const STATUS_CODES = ['Unset', 'Ok', 'Error'];
const TEMPORALITIES = ['Unspecified', 'Delta', 'Cumulative'];
const SEVERITIES = ['Unspecified', 'Trace', 'Debug', 'Info', 'Warn', 'Error', 'Fatal'];

function named(names: readonly string[], n: number | null | undefined): string {
  const v = n ?? 0;
  return names[v] ?? String(v);
}

/** SeverityNumber 1-4 Trace, 5-8 Debug, ... 21-24 Fatal, with the step (Info2) past the first. */
export function severityName(n: number | null | undefined): string {
  const v = n ?? 0;
  if (v <= 0 || v > 24) return v === 0 ? 'Unspecified' : String(v);
  const base = SEVERITIES[Math.ceil(v / 4)]!;
  const step = ((v - 1) % 4) + 1;
  return step === 1 ? base : `${base}${step}`;
}

function int64(v: Int64 | null | undefined): string {
  if (v == null) return '0';
  return Long.isLong(v) ? v.toString() : String(v);
}

function toLong(v: Int64 | null | undefined): Long {
  if (v == null) return Long.UZERO;
  return Long.isLong(v) ? v : Long.fromNumber(v, true);
}

const NS_PER_S = Long.fromNumber(1_000_000_000, true);

/** RFC 3339 with nanoseconds: 2024-01-02T03:04:05.123456789Z. */
export function timestamp(v: Int64 | null | undefined): string {
  const ns = toLong(v).toUnsigned();
  const secs = ns.divide(NS_PER_S).toNumber();
  const frac = ns.modulo(NS_PER_S).toNumber();
  const iso = new Date(secs * 1000).toISOString();
  return `${iso.slice(0, 19)}.${String(frac).padStart(9, '0')}Z`;
}

/** Go's Duration.String: 0s, 750ns, 12.5µs, 1.5ms, 2.25s, 1m30s, 2h0m1s. */
export function duration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 0) return '-' + duration(-ns);
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return decimal(ns, 1e3) + 'µs';
  if (ns < 1e9) return decimal(ns, 1e6) + 'ms';
  const h = Math.floor(ns / 3.6e12);
  const m = Math.floor((ns % 3.6e12) / 6e10);
  const s = decimal(ns % 6e10, 1e9) + 's';
  return h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
}

/** n / unit in decimal without float noise, trailing zeros dropped. */
function decimal(n: number, unit: number): string {
  const whole = Math.floor(n / unit);
  const digits = String(unit).length - 1;
  const frac = String(Math.round(n % unit)).padStart(digits, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
}

function spanDuration(s: Span): string {
  const diff = toLong(s.endTimeUnixNano).toSigned().subtract(toLong(s.startTimeUnixNano).toSigned());
  return duration(diff.toNumber());
}

/** A value with its type, as the Collector prints attributes: Str(x), Int(5), Map({...}). */
export function typedValue(v: AnyValue | null | undefined): string {
  if (v == null) return 'Empty()';
  if (isSet(v, 'stringValue')) return `Str(${v.stringValue})`;
  if (isSet(v, 'boolValue')) return `Bool(${v.boolValue})`;
  if (isSet(v, 'intValue')) return `Int(${int64(v.intValue)})`;
  if (isSet(v, 'doubleValue')) return `Double(${v.doubleValue})`;
  if (isSet(v, 'bytesValue')) return `Bytes(${Buffer.from(v.bytesValue!).toString('base64')})`;
  if (v.arrayValue != null) return `Slice(${plainValue(v)})`;
  if (v.kvlistValue != null) return `Map(${plainValue(v)})`;
  return 'Empty()';
}

/** A value as JSON-like text: strings quoted, lists and maps nested. */
export function plainValue(v: AnyValue | null | undefined): string {
  if (v == null) return 'null';
  if (isSet(v, 'stringValue')) return JSON.stringify(v.stringValue);
  if (isSet(v, 'boolValue')) return String(v.boolValue);
  if (isSet(v, 'intValue')) return int64(v.intValue);
  if (isSet(v, 'doubleValue')) return String(v.doubleValue);
  if (isSet(v, 'bytesValue')) return JSON.stringify(Buffer.from(v.bytesValue!).toString('base64'));
  if (v.arrayValue != null) return `[${(v.arrayValue.values ?? []).map(plainValue).join(',')}]`;
  if (v.kvlistValue != null) return `{${(v.kvlistValue.values ?? []).map((kv) => `${JSON.stringify(kv.key ?? '')}:${plainValue(kv.value)}`).join(',')}}`;
  return 'null';
}

/** asInt or asDouble, whichever of the oneof is set. */
function numberValue(p: NumberDataPoint | Exemplar): string {
  return isSet(p, 'asInt') ? int64(p.asInt) : String(p.asDouble ?? 0);
}

function metricType(m: Metric): string {
  if (m.gauge != null) return 'Gauge';
  if (m.sum != null) return 'Sum';
  if (m.histogram != null) return 'Histogram';
  if (m.exponentialHistogram != null) return 'ExponentialHistogram';
  if (m.summary != null) return 'Summary';
  return 'Empty';
}

// ---- normal: one line per item ---------------------------------------------------------------

function normalTraces(d: TracesData, out: string[]): void {
  for (const rs of d.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) {
    const status = named(STATUS_CODES, s.status?.code);
    const message = s.status?.message ? ` ${JSON.stringify(s.status.message)}` : '';
    out.push(`span ${JSON.stringify(s.name ?? '')} trace_id=${idToHex(s.traceId)} span_id=${idToHex(s.spanId)} kind=${named(SPAN_KINDS, s.kind)} duration=${spanDuration(s)} status=${status}${message}`);
  }
}

function normalMetrics(d: MetricsData, out: string[]): void {
  for (const rm of d.resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) {
    const unit = m.unit ? ` unit=${m.unit}` : '';
    out.push(`metric ${JSON.stringify(m.name ?? '')} type=${metricType(m)}${unit} points=${metricPointCount(m)}`);
  }
}

function normalLogs(d: LogsData, out: string[]): void {
  for (const rl of d.resourceLogs) for (const sl of rl.scopeLogs) for (const l of sl.logRecords) {
    const severity = l.severityText || severityName(l.severityNumber);
    out.push(`log severity=${severity} body=${plainValue(l.body)}`);
  }
}

// ---- detailed: everything --------------------------------------------------------------------

/** Lines at an indent; each level of nesting adds two spaces. */
class Dump {
  constructor(private readonly out: string[], private readonly indent = '') {}
  line(text: string): void { this.out.push(this.indent + text); }
  field(name: string, value: string | number | boolean): void { this.line(value === '' ? `${name}:` : `${name}: ${value}`); }
  nested(): Dump { return new Dump(this.out, this.indent + '  '); }

  attributes(title: string, attrs: readonly KeyValue[] | null | undefined): void {
    if (!attrs || attrs.length === 0) return;
    this.line(`${title}:`);
    const inner = this.nested();
    for (const kv of attrs) inner.line(`-> ${kv.key ?? ''}: ${typedValue(kv.value)}`);
  }

  resource(title: string, r: Resource | null | undefined, schemaUrl: string | null | undefined): void {
    this.field(`${title} SchemaURL`, schemaUrl ?? '');
    this.attributes('Resource attributes', r?.attributes);
  }

  scope(title: string, s: InstrumentationScope | null | undefined, schemaUrl: string | null | undefined): void {
    this.field(`${title} SchemaURL`, schemaUrl ?? '');
    this.line(`InstrumentationScope ${s?.name ?? ''} ${s?.version ?? ''}`.trimEnd());
    this.attributes('InstrumentationScope attributes', s?.attributes);
  }
}

function detailedTraces(d: TracesData, out: string[]): void {
  d.resourceSpans.forEach((rs, i) => {
    const r = new Dump(out);
    r.line(`ResourceSpans #${i}`);
    const rd = r.nested();
    rd.resource('Resource', rs.resource, rs.schemaUrl);
    rs.scopeSpans.forEach((ss, j) => {
      rd.line(`ScopeSpans #${j}`);
      const sd = rd.nested();
      sd.scope('ScopeSpans', ss.scope, ss.schemaUrl);
      ss.spans.forEach((s, k) => dumpSpan(sd, s, k));
    });
  });
}

function dumpSpan(at: Dump, s: Span, k: number): void {
  at.line(`Span #${k}`);
  const d = at.nested();
  d.field('Trace ID', idToHex(s.traceId));
  d.field('Parent ID', idToHex(s.parentSpanId));
  d.field('ID', idToHex(s.spanId));
  d.field('Name', s.name ?? '');
  d.field('Kind', named(SPAN_KINDS, s.kind));
  d.field('TraceState', s.traceState ?? '');
  d.field('Start time', timestamp(s.startTimeUnixNano));
  d.field('End time', timestamp(s.endTimeUnixNano));
  d.field('Duration', spanDuration(s));
  d.field('Status code', named(STATUS_CODES, s.status?.code));
  d.field('Status message', s.status?.message ?? '');
  d.field('Flags', s.flags ?? 0);
  d.field('DroppedAttributesCount', s.droppedAttributesCount ?? 0);
  d.attributes('Attributes', s.attributes);
  if (s.events?.length) {
    d.line('Events:');
    s.events.forEach((e, i) => {
      const ed = d.nested();
      ed.line(`SpanEvent #${i}`);
      const f = ed.nested();
      f.field('-> Name', e.name ?? '');
      f.field('-> Timestamp', timestamp(e.timeUnixNano));
      f.field('-> DroppedAttributesCount', e.droppedAttributesCount ?? 0);
      f.attributes('-> Attributes', e.attributes);
    });
  }
  if (s.links?.length) {
    d.line('Links:');
    s.links.forEach((l, i) => {
      const ld = d.nested();
      ld.line(`SpanLink #${i}`);
      const f = ld.nested();
      f.field('-> Trace ID', idToHex(l.traceId));
      f.field('-> ID', idToHex(l.spanId));
      f.field('-> TraceState', l.traceState ?? '');
      f.field('-> DroppedAttributesCount', l.droppedAttributesCount ?? 0);
      f.attributes('-> Attributes', l.attributes);
    });
  }
}

function detailedMetrics(d: MetricsData, out: string[]): void {
  d.resourceMetrics.forEach((rm, i) => {
    const r = new Dump(out);
    r.line(`ResourceMetrics #${i}`);
    const rd = r.nested();
    rd.resource('Resource', rm.resource, rm.schemaUrl);
    rm.scopeMetrics.forEach((sm, j) => {
      rd.line(`ScopeMetrics #${j}`);
      const sd = rd.nested();
      sd.scope('ScopeMetrics', sm.scope, sm.schemaUrl);
      sm.metrics.forEach((m, k) => dumpMetric(sd, m, k));
    });
  });
}

function dumpMetric(at: Dump, m: Metric, k: number): void {
  at.line(`Metric #${k}`);
  const md = at.nested();
  md.line('Descriptor:');
  const dd = md.nested();
  dd.field('-> Name', m.name ?? '');
  dd.field('-> Description', m.description ?? '');
  dd.field('-> Unit', m.unit ?? '');
  dd.field('-> DataType', metricType(m));
  if (m.sum != null) dd.field('-> IsMonotonic', m.sum.isMonotonic ?? false);
  const temporality = (m.sum ?? m.histogram ?? m.exponentialHistogram)?.aggregationTemporality;
  if (m.sum != null || m.histogram != null || m.exponentialHistogram != null) dd.field('-> AggregationTemporality', named(TEMPORALITIES, temporality));
  md.attributes('Metadata', m.metadata);
  const points = (m.gauge ?? m.sum)?.dataPoints;
  points?.forEach((p, i) => dumpNumberPoint(md, p, i));
  m.histogram?.dataPoints.forEach((p, i) => dumpHistogramPoint(md, p, i));
  m.exponentialHistogram?.dataPoints.forEach((p, i) => dumpExpPoint(md, p, i));
  m.summary?.dataPoints.forEach((p, i) => dumpSummaryPoint(md, p, i));
}

function pointHeader(at: Dump, title: string, p: { attributes: KeyValue[]; startTimeUnixNano?: Long; timeUnixNano?: Long; flags?: number }): Dump {
  at.line(title);
  const d = at.nested();
  d.attributes('Data point attributes', p.attributes);
  d.field('StartTimestamp', timestamp(p.startTimeUnixNano));
  d.field('Timestamp', timestamp(p.timeUnixNano));
  if (p.flags) d.field('Flags', p.flags);
  return d;
}

function dumpNumberPoint(at: Dump, p: NumberDataPoint, i: number): void {
  const d = pointHeader(at, `NumberDataPoints #${i}`, p);
  d.field('Value', numberValue(p));
  dumpExemplars(d, p.exemplars);
}

function dumpHistogramPoint(at: Dump, p: HistogramDataPoint, i: number): void {
  const d = pointHeader(at, `HistogramDataPoints #${i}`, p);
  d.field('Count', int64(p.count));
  if (isSet(p, 'sum')) d.field('Sum', p.sum!);
  if (isSet(p, 'min')) d.field('Min', p.min!);
  if (isSet(p, 'max')) d.field('Max', p.max!);
  (p.explicitBounds ?? []).forEach((b, j) => d.field(`ExplicitBounds #${j}`, b));
  (p.bucketCounts ?? []).forEach((c, j) => d.line(`Buckets #${j}, Count: ${int64(c)}`));
  dumpExemplars(d, p.exemplars);
}

function dumpBuckets(d: Dump, title: string, b: ExponentialHistogramBuckets | null | undefined): void {
  if (b == null) return;
  d.line(`${title} buckets, offset ${b.offset ?? 0}: ${(b.bucketCounts ?? []).map(int64).join(' ')}`);
}

function dumpExpPoint(at: Dump, p: ExponentialHistogramDataPoint, i: number): void {
  const d = pointHeader(at, `ExponentialHistogramDataPoints #${i}`, p);
  d.field('Count', int64(p.count));
  if (isSet(p, 'sum')) d.field('Sum', p.sum!);
  if (isSet(p, 'min')) d.field('Min', p.min!);
  if (isSet(p, 'max')) d.field('Max', p.max!);
  d.field('Scale', p.scale ?? 0);
  d.field('ZeroCount', int64(p.zeroCount));
  d.field('ZeroThreshold', p.zeroThreshold ?? 0);
  dumpBuckets(d, 'Positive', p.positive);
  dumpBuckets(d, 'Negative', p.negative);
  dumpExemplars(d, p.exemplars);
}

function dumpSummaryPoint(at: Dump, p: SummaryDataPoint, i: number): void {
  const d = pointHeader(at, `SummaryDataPoints #${i}`, p);
  d.field('Count', int64(p.count));
  d.field('Sum', p.sum ?? 0);
  (p.quantileValues ?? []).forEach((q, j) => d.line(`QuantileValue #${j}: Quantile ${q.quantile ?? 0}, Value ${q.value ?? 0}`));
}

function dumpExemplars(at: Dump, exemplars: readonly Exemplar[] | null | undefined): void {
  if (!exemplars?.length) return;
  at.line('Exemplars:');
  exemplars.forEach((e, i) => {
    const ed = at.nested();
    ed.line(`Exemplar #${i}`);
    const f = ed.nested();
    f.field('-> Trace ID', idToHex(e.traceId));
    f.field('-> Span ID', idToHex(e.spanId));
    f.field('-> Timestamp', timestamp(e.timeUnixNano));
    f.field('-> Value', numberValue(e));
    f.attributes('-> FilteredAttributes', e.filteredAttributes);
  });
}

function detailedLogs(d: LogsData, out: string[]): void {
  d.resourceLogs.forEach((rl, i) => {
    const r = new Dump(out);
    r.line(`ResourceLog #${i}`);
    const rd = r.nested();
    rd.resource('Resource', rl.resource, rl.schemaUrl);
    rl.scopeLogs.forEach((sl, j) => {
      rd.line(`ScopeLogs #${j}`);
      const sd = rd.nested();
      sd.scope('ScopeLogs', sl.scope, sl.schemaUrl);
      sl.logRecords.forEach((l, k) => dumpLog(sd, l, k));
    });
  });
}

function dumpLog(at: Dump, l: LogRecord, k: number): void {
  at.line(`LogRecord #${k}`);
  const d = at.nested();
  d.field('ObservedTimestamp', timestamp(l.observedTimeUnixNano));
  d.field('Timestamp', timestamp(l.timeUnixNano));
  d.field('SeverityText', l.severityText ?? '');
  d.field('SeverityNumber', `${severityName(l.severityNumber)}(${l.severityNumber ?? 0})`);
  if (l.eventName) d.field('EventName', l.eventName);
  d.field('Body', typedValue(l.body));
  d.attributes('Attributes', l.attributes);
  d.field('Trace ID', idToHex(l.traceId));
  d.field('Span ID', idToHex(l.spanId));
  d.field('Flags', l.flags ?? 0);
  d.field('DroppedAttributesCount', l.droppedAttributesCount ?? 0);
}
