// pdata: the data that moves through pipelines, shaped exactly like the OTLP export requests
// (resource -> scope -> items). Receivers that decode OTLP hand the decoded objects on as they
// are, exporters encode them as they are: no conversion on the hot path.
//
// Decoded messages keep proto3 defaults on their prototype, so every scalar field may be absent
// on an object built by hand or cloned: readers treat undefined as the proto3 default.
import Long from 'long';

export type Signal = 'traces' | 'metrics' | 'logs';
export const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

/** Unsigned 64-bit nanoseconds since the epoch (fixed64 on the wire). */
export type Nanos = Long;
/** A signed or unsigned 64-bit integer as protobufjs gives it. */
export type Int64 = Long | number;

export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: Int64;
  doubleValue?: number;
  arrayValue?: ArrayValue;
  kvlistValue?: KeyValueList;
  bytesValue?: Uint8Array;
}
export interface ArrayValue { values: AnyValue[] }
export interface KeyValueList { values: KeyValue[] }
export interface KeyValue { key: string; value?: AnyValue }

export interface Resource {
  attributes: KeyValue[];
  droppedAttributesCount?: number;
}

export interface InstrumentationScope {
  name?: string;
  version?: string;
  attributes: KeyValue[];
  droppedAttributesCount?: number;
}

// ---- traces ----------------------------------------------------------------------------------

export enum SpanKind { UNSPECIFIED = 0, INTERNAL = 1, SERVER = 2, CLIENT = 3, PRODUCER = 4, CONSUMER = 5 }
export enum StatusCode { UNSET = 0, OK = 1, ERROR = 2 }

export interface SpanEvent {
  timeUnixNano?: Nanos;
  name?: string;
  attributes: KeyValue[];
  droppedAttributesCount?: number;
}

export interface SpanLink {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  traceState?: string;
  attributes: KeyValue[];
  droppedAttributesCount?: number;
  flags?: number;
}

export interface Status { message?: string; code?: StatusCode }

export interface Span {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  traceState?: string;
  parentSpanId?: Uint8Array;
  flags?: number;
  name?: string;
  kind?: SpanKind;
  startTimeUnixNano?: Nanos;
  endTimeUnixNano?: Nanos;
  attributes: KeyValue[];
  droppedAttributesCount?: number;
  events: SpanEvent[];
  droppedEventsCount?: number;
  links: SpanLink[];
  droppedLinksCount?: number;
  status?: Status;
}

export interface ScopeSpans { scope?: InstrumentationScope; spans: Span[]; schemaUrl?: string }
export interface ResourceSpans { resource?: Resource; scopeSpans: ScopeSpans[]; schemaUrl?: string }
/** Same shape as ExportTraceServiceRequest / TracesData. */
export interface TracesData { resourceSpans: ResourceSpans[] }

// ---- metrics ---------------------------------------------------------------------------------

export enum AggregationTemporality { UNSPECIFIED = 0, DELTA = 1, CUMULATIVE = 2 }

export interface Exemplar {
  filteredAttributes: KeyValue[];
  timeUnixNano?: Nanos;
  asDouble?: number;
  asInt?: Int64;
  spanId?: Uint8Array;
  traceId?: Uint8Array;
}

export interface NumberDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano?: Nanos;
  timeUnixNano?: Nanos;
  asDouble?: number;
  asInt?: Int64;
  exemplars: Exemplar[];
  flags?: number;
}

export interface HistogramDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano?: Nanos;
  timeUnixNano?: Nanos;
  count?: Int64;
  sum?: number;
  bucketCounts: Int64[];
  explicitBounds: number[];
  exemplars: Exemplar[];
  flags?: number;
  min?: number;
  max?: number;
}

export interface ExponentialHistogramBuckets { offset?: number; bucketCounts: Int64[] }

export interface ExponentialHistogramDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano?: Nanos;
  timeUnixNano?: Nanos;
  count?: Int64;
  sum?: number;
  scale?: number;
  zeroCount?: Int64;
  positive?: ExponentialHistogramBuckets;
  negative?: ExponentialHistogramBuckets;
  flags?: number;
  exemplars: Exemplar[];
  min?: number;
  max?: number;
  zeroThreshold?: number;
}

export interface SummaryValueAtQuantile { quantile?: number; value?: number }
export interface SummaryDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano?: Nanos;
  timeUnixNano?: Nanos;
  count?: Int64;
  sum?: number;
  quantileValues: SummaryValueAtQuantile[];
  flags?: number;
}

export interface Gauge { dataPoints: NumberDataPoint[] }
export interface Sum { dataPoints: NumberDataPoint[]; aggregationTemporality?: AggregationTemporality; isMonotonic?: boolean }
export interface Histogram { dataPoints: HistogramDataPoint[]; aggregationTemporality?: AggregationTemporality }
export interface ExponentialHistogram { dataPoints: ExponentialHistogramDataPoint[]; aggregationTemporality?: AggregationTemporality }
export interface Summary { dataPoints: SummaryDataPoint[] }

/** Exactly one of gauge, sum, histogram, exponentialHistogram, summary is set. */
export interface Metric {
  name?: string;
  description?: string;
  unit?: string;
  gauge?: Gauge;
  sum?: Sum;
  histogram?: Histogram;
  exponentialHistogram?: ExponentialHistogram;
  summary?: Summary;
  metadata?: KeyValue[];
}

export interface ScopeMetrics { scope?: InstrumentationScope; metrics: Metric[]; schemaUrl?: string }
export interface ResourceMetrics { resource?: Resource; scopeMetrics: ScopeMetrics[]; schemaUrl?: string }
/** Same shape as ExportMetricsServiceRequest / MetricsData. */
export interface MetricsData { resourceMetrics: ResourceMetrics[] }

// ---- logs ------------------------------------------------------------------------------------

export interface LogRecord {
  timeUnixNano?: Nanos;
  observedTimeUnixNano?: Nanos;
  severityNumber?: number;
  severityText?: string;
  body?: AnyValue;
  attributes: KeyValue[];
  droppedAttributesCount?: number;
  flags?: number;
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  eventName?: string;
}

export interface ScopeLogs { scope?: InstrumentationScope; logRecords: LogRecord[]; schemaUrl?: string }
export interface ResourceLogs { resource?: Resource; scopeLogs: ScopeLogs[]; schemaUrl?: string }
/** Same shape as ExportLogsServiceRequest / LogsData. */
export interface LogsData { resourceLogs: ResourceLogs[] }

export interface SignalData { traces: TracesData; metrics: MetricsData; logs: LogsData }

// ---- counting --------------------------------------------------------------------------------

/** Items in a batch as the Collector counts them: spans, data points, log records. */
export function countItems<S extends Signal>(signal: S, data: SignalData[S]): number {
  let n = 0;
  switch (signal) {
    case 'traces':
      for (const rs of (data as TracesData).resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
      return n;
    case 'metrics':
      for (const rm of (data as MetricsData).resourceMetrics) {
        for (const sm of rm.scopeMetrics) for (const m of sm.metrics) n += metricPointCount(m);
      }
      return n;
    case 'logs':
      for (const rl of (data as LogsData).resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
      return n;
  }
  return n;
}

export function metricPointCount(m: Metric): number {
  const body = m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary;
  return body ? body.dataPoints.length : 0;
}

export function emptyData<S extends Signal>(signal: S): SignalData[S] {
  switch (signal) {
    case 'traces': return { resourceSpans: [] } as TracesData as SignalData[S];
    case 'metrics': return { resourceMetrics: [] } as MetricsData as SignalData[S];
    default: return { resourceLogs: [] } as LogsData as SignalData[S];
  }
}

/** Nanoseconds since the epoch from milliseconds (Date.now() style). */
export function nanosFromMillis(ms: number): Nanos {
  return Long.fromNumber(Math.floor(ms), true).multiply(1_000_000).add(Math.round((ms % 1) * 1e6));
}

/** The hex form of a trace or span id (OTLP/JSON and logs use it). */
export function idToHex(id: Uint8Array | undefined): string {
  return id && id.length ? Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex') : '';
}
