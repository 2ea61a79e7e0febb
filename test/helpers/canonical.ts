// One plain, comparable form for telemetry items, built either from what the OpenTelemetry JS
// SDK handed its exporter or from OTLP pdata that came out of Sonde. End-to-end tests compare
// the two sets: equal means every field went through unchanged.
import type { Attributes, AttributeValue, HrTime, Link } from '@opentelemetry/api';
import type { LogBody } from '@opentelemetry/api-logs';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { DataPoint, ExponentialHistogram, Histogram, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import Long from 'long';
import type {
  AnyValue, KeyValue, LogsData, Metric, MetricsData, NumberDataPoint, TracesData,
} from '../../pipeline/pdata';

type Plain = string | number | boolean | null | Plain[] | { [k: string]: Plain };

export interface CanonSpan {
  resource: Record<string, Plain>;
  scope: string;
  traceId: string; spanId: string; parentSpanId: string; traceState: string; flags: number;
  name: string; kind: number; start: string; end: string;
  attributes: Record<string, Plain>; droppedAttributes: number;
  events: { name: string; time: string; attributes: Record<string, Plain>; dropped: number }[]; droppedEvents: number;
  links: { traceId: string; spanId: string; traceState: string; attributes: Record<string, Plain>; dropped: number }[]; droppedLinks: number;
  status: { code: number; message: string };
}

export interface CanonPoint {
  resource: Record<string, Plain>; scope: string;
  name: string; description: string; unit: string; type: string; temporality: number; monotonic: boolean;
  attributes: Record<string, Plain>; start: string; time: string; value: Plain;
}

export interface CanonLog {
  resource: Record<string, Plain>; scope: string;
  time: string; observed: string; severityNumber: number; severityText: string; body: Plain;
  attributes: Record<string, Plain>; droppedAttributes: number; traceId: string; spanId: string; flags: number; eventName: string;
}

// ---- helpers -----------------------------------------------------------------------------------

const hex = (b: Uint8Array | undefined): string => (b && b.length ? Buffer.from(b).toString('hex') : '');
const nanos = (t: HrTime): string => (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();
const long = (v: Long | number | undefined): string => (v === undefined ? '0' : Long.isLong(v) ? (v as Long).toString() : String(v));
const num = (v: Long | number | undefined): number => (v === undefined ? 0 : Long.isLong(v) ? (v as Long).toNumber() : Number(v));

function sdkValue(v: AttributeValue | LogBody | undefined): Plain {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) return v.map((x) => sdkValue(x as AttributeValue));
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('base64')}`;
  if (typeof v === 'object') {
    const out: Record<string, Plain> = {};
    for (const k of Object.keys(v).sort()) out[k] = sdkValue((v as Record<string, AttributeValue>)[k]);
    return out;
  }
  return v as Plain;
}

function sdkAttributes(a: Attributes | undefined): Record<string, Plain> {
  const out: Record<string, Plain> = {};
  for (const k of Object.keys(a ?? {}).sort()) out[k] = sdkValue(a![k]);
  return out;
}

function otlpValue(v: AnyValue | undefined): Plain {
  if (!v) return null;
  if (v.stringValue !== undefined && v.stringValue !== null && hasOwnOrSet(v, 'stringValue')) return v.stringValue;
  if (hasOwnOrSet(v, 'boolValue')) return v.boolValue!;
  if (hasOwnOrSet(v, 'intValue')) return num(v.intValue);
  if (hasOwnOrSet(v, 'doubleValue')) return v.doubleValue!;
  if (v.arrayValue) return v.arrayValue.values.map(otlpValue);
  if (v.kvlistValue) return otlpAttributes(v.kvlistValue.values);
  if (v.bytesValue) return `bytes:${Buffer.from(v.bytesValue).toString('base64')}`;
  return null;
}

/** Decoded oneof members are own properties; defaults from the prototype are not "set". */
function hasOwnOrSet(v: AnyValue, key: keyof AnyValue): boolean {
  return Object.prototype.hasOwnProperty.call(v, key) && v[key] !== undefined && v[key] !== null;
}

function otlpAttributes(kvs: KeyValue[] | undefined): Record<string, Plain> {
  const out: Record<string, Plain> = {};
  for (const kv of [...(kvs ?? [])].sort((a, b) => (a.key < b.key ? -1 : 1))) out[kv.key] = otlpValue(kv.value);
  return out;
}

// ---- traces ------------------------------------------------------------------------------------

export function spansFromSdk(spans: readonly ReadableSpan[]): CanonSpan[] {
  return spans.map((s) => {
    const ctx = s.spanContext();
    return {
      resource: sdkAttributes(s.resource.attributes),
      scope: `${s.instrumentationScope.name}@${s.instrumentationScope.version ?? ''}`,
      traceId: ctx.traceId, spanId: ctx.spanId, parentSpanId: s.parentSpanContext?.spanId ?? '',
      traceState: ctx.traceState?.serialize() ?? '', flags: ctx.traceFlags,
      name: s.name, kind: s.kind + 1, start: nanos(s.startTime), end: nanos(s.endTime),
      attributes: sdkAttributes(s.attributes), droppedAttributes: s.droppedAttributesCount,
      events: s.events.map((e: TimedEvent) => ({ name: e.name, time: nanos(e.time), attributes: sdkAttributes(e.attributes), dropped: e.droppedAttributesCount ?? 0 })),
      droppedEvents: s.droppedEventsCount,
      links: s.links.map((l: Link) => ({
        traceId: l.context.traceId, spanId: l.context.spanId, traceState: l.context.traceState?.serialize() ?? '',
        attributes: sdkAttributes(l.attributes), dropped: l.droppedAttributesCount ?? 0,
      })),
      droppedLinks: s.droppedLinksCount,
      status: { code: s.status.code, message: s.status.message ?? '' },
    };
  });
}

export function spansFromOtlp(data: TracesData): CanonSpan[] {
  const out: CanonSpan[] = [];
  for (const rs of data.resourceSpans) {
    const resource = otlpAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans) {
      const scope = `${ss.scope?.name ?? ''}@${ss.scope?.version ?? ''}`;
      for (const s of ss.spans) {
        out.push({
          resource, scope,
          traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId), traceState: s.traceState ?? '',
          // The SDK sends W3C trace flags in the low byte; higher bits say whether the parent is remote.
          flags: (s.flags ?? 0) & 0xff,
          name: s.name ?? '', kind: s.kind ?? 0, start: long(s.startTimeUnixNano), end: long(s.endTimeUnixNano),
          attributes: otlpAttributes(s.attributes), droppedAttributes: s.droppedAttributesCount ?? 0,
          events: s.events.map((e) => ({ name: e.name ?? '', time: long(e.timeUnixNano), attributes: otlpAttributes(e.attributes), dropped: e.droppedAttributesCount ?? 0 })),
          droppedEvents: s.droppedEventsCount ?? 0,
          links: s.links.map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId), traceState: l.traceState ?? '', attributes: otlpAttributes(l.attributes), dropped: l.droppedAttributesCount ?? 0 })),
          droppedLinks: s.droppedLinksCount ?? 0,
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
        });
      }
    }
  }
  return out;
}

// ---- metrics -----------------------------------------------------------------------------------

const SDK_TYPE = ['histogram', 'exponential_histogram', 'gauge', 'sum'];

export function pointsFromSdk(rms: readonly ResourceMetrics[]): CanonPoint[] {
  const out: CanonPoint[] = [];
  for (const rm of rms) {
    const resource = sdkAttributes(rm.resource.attributes);
    for (const sm of rm.scopeMetrics) {
      const scope = `${sm.scope.name}@${sm.scope.version ?? ''}`;
      for (const m of sm.metrics as MetricData[]) {
        const type = SDK_TYPE[m.dataPointType]!;
        for (const p of m.dataPoints as DataPoint<unknown>[]) {
          out.push({
            resource, scope, name: m.descriptor.name, description: m.descriptor.description, unit: m.descriptor.unit, type,
            // The SDK: DELTA=0, CUMULATIVE=1; OTLP: DELTA=1, CUMULATIVE=2; gauges carry none.
            temporality: type === 'gauge' ? 0 : m.aggregationTemporality + 1,
            monotonic: type === 'sum' ? (m as { isMonotonic?: boolean }).isMonotonic === true : false,
            attributes: sdkAttributes(p.attributes), start: nanos(p.startTime), time: nanos(p.endTime),
            value: sdkPointValue(type, p.value),
          });
        }
      }
    }
  }
  return out;
}

function sdkPointValue(type: string, v: unknown): Plain {
  if (type === 'histogram') {
    const h = v as Histogram;
    return { bounds: h.buckets.boundaries, counts: h.buckets.counts, count: h.count, sum: h.sum ?? null, min: h.min ?? null, max: h.max ?? null };
  }
  if (type === 'exponential_histogram') {
    const h = v as ExponentialHistogram;
    return {
      count: h.count, sum: h.sum ?? null, scale: h.scale, zeroCount: h.zeroCount,
      positive: { offset: h.positive.offset, counts: h.positive.bucketCounts },
      negative: { offset: h.negative.offset, counts: h.negative.bucketCounts },
      min: h.min ?? null, max: h.max ?? null,
    };
  }
  return v as number;
}

export function pointsFromOtlp(data: MetricsData): CanonPoint[] {
  const out: CanonPoint[] = [];
  for (const rm of data.resourceMetrics) {
    const resource = otlpAttributes(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics) {
      const scope = `${sm.scope?.name ?? ''}@${sm.scope?.version ?? ''}`;
      for (const m of sm.metrics) out.push(...metricPoints(resource, scope, m));
    }
  }
  return out;
}

function metricPoints(resource: Record<string, Plain>, scope: string, m: Metric): CanonPoint[] {
  const base = { resource, scope, name: m.name ?? '', description: m.description ?? '', unit: m.unit ?? '' };
  const common = (p: { attributes: KeyValue[]; startTimeUnixNano?: Long; timeUnixNano?: Long }) => ({
    attributes: otlpAttributes(p.attributes), start: long(p.startTimeUnixNano), time: long(p.timeUnixNano),
  });
  const numberValue = (p: NumberDataPoint): number => (Object.prototype.hasOwnProperty.call(p, 'asInt') && p.asInt !== undefined ? num(p.asInt) : p.asDouble ?? 0);
  if (m.sum) {
    return m.sum.dataPoints.map((p) => ({ ...base, type: 'sum', temporality: m.sum!.aggregationTemporality ?? 0, monotonic: m.sum!.isMonotonic ?? false, ...common(p), value: numberValue(p) }));
  }
  if (m.gauge) return m.gauge.dataPoints.map((p) => ({ ...base, type: 'gauge', temporality: 0, monotonic: false, ...common(p), value: numberValue(p) }));
  if (m.histogram) {
    return m.histogram.dataPoints.map((p) => ({
      ...base, type: 'histogram', temporality: m.histogram!.aggregationTemporality ?? 0, monotonic: false, ...common(p),
      value: { bounds: p.explicitBounds, counts: p.bucketCounts.map(num), count: num(p.count), sum: p.sum ?? null, min: p.min ?? null, max: p.max ?? null },
    }));
  }
  if (m.exponentialHistogram) {
    return m.exponentialHistogram.dataPoints.map((p) => ({
      ...base, type: 'exponential_histogram', temporality: m.exponentialHistogram!.aggregationTemporality ?? 0, monotonic: false, ...common(p),
      value: {
        count: num(p.count), sum: p.sum ?? null, scale: p.scale ?? 0, zeroCount: num(p.zeroCount),
        positive: { offset: p.positive?.offset ?? 0, counts: (p.positive?.bucketCounts ?? []).map(num) },
        negative: { offset: p.negative?.offset ?? 0, counts: (p.negative?.bucketCounts ?? []).map(num) },
        min: p.min ?? null, max: p.max ?? null,
      },
    }));
  }
  return [];
}

// ---- logs --------------------------------------------------------------------------------------

export function logsFromSdk(records: readonly ReadableLogRecord[]): CanonLog[] {
  return records.map((r) => ({
    resource: sdkAttributes(r.resource.attributes),
    scope: `${r.instrumentationScope.name}@${r.instrumentationScope.version ?? ''}`,
    time: nanos(r.hrTime), observed: nanos(r.hrTimeObserved),
    severityNumber: r.severityNumber ?? 0, severityText: r.severityText ?? '', body: sdkValue(r.body),
    attributes: sdkAttributes(r.attributes as Attributes), droppedAttributes: r.droppedAttributesCount,
    traceId: r.spanContext?.traceId ?? '', spanId: r.spanContext?.spanId ?? '', flags: r.spanContext?.traceFlags ?? 0,
    eventName: r.eventName ?? '',
  }));
}

export function logsFromOtlp(data: LogsData): CanonLog[] {
  const out: CanonLog[] = [];
  for (const rl of data.resourceLogs) {
    const resource = otlpAttributes(rl.resource?.attributes);
    for (const sl of rl.scopeLogs) {
      const scope = `${sl.scope?.name ?? ''}@${sl.scope?.version ?? ''}`;
      for (const r of sl.logRecords) {
        out.push({
          resource, scope, time: long(r.timeUnixNano), observed: long(r.observedTimeUnixNano),
          severityNumber: r.severityNumber ?? 0, severityText: r.severityText ?? '', body: otlpValue(r.body),
          attributes: otlpAttributes(r.attributes), droppedAttributes: r.droppedAttributesCount ?? 0,
          traceId: hex(r.traceId), spanId: hex(r.spanId), flags: r.flags ?? 0, eventName: r.eventName ?? '',
        });
      }
    }
  }
  return out;
}

/** A stable order for comparing sets of items. */
export function sortCanon<T>(items: T[]): T[] {
  return items.map((i) => [JSON.stringify(i), i] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((x) => x[1]);
}
