// Test helpers for proving the OTLP codec against the OpenTelemetry JS SDK:
// - capture servers the SDK's real exporters send to (HTTP protobuf/JSON, gRPC);
// - a canonical, codec-independent view of decoded OTLP messages and of the SDK's own objects
//   (ReadableSpan, ResourceMetrics, ReadableLogRecord), so tests compare them field by field;
// - a schema-driven comparison of two decoded messages that treats prototype defaults and
//   explicitly sent defaults alike, but insists on the same JS types (Long, Buffer, classes).
import * as http from 'node:http';
import * as zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import * as assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';
import Long from 'long';
import type { HrTime, Attributes, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ResourceMetrics, MetricData, DataPoint, Histogram, ExponentialHistogram } from '@opentelemetry/sdk-metrics';
import { AggregationTemporality as SdkTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { otlpGrpcRawServices } from '../../pipeline/otlp/grpc';
import type { Signal } from '../../pipeline/pdata';

// ---- capture servers ----------------------------------------------------------------------------

export interface CapturedRequest { path: string; contentType: string; body: Buffer }

export interface HttpCapture {
  /** http://127.0.0.1:port */
  readonly base: string;
  readonly requests: CapturedRequest[];
  close(): Promise<void>;
}

/** An OTLP/HTTP endpoint that records every request and answers an empty success. */
export async function startHttpCapture(): Promise<HttpCapture> {
  const requests: CapturedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
      const contentType = String(req.headers['content-type'] ?? '');
      requests.push({ path: req.url ?? '', contentType, body });
      const json = contentType.includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : Buffer.alloc(0));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface GrpcCapture {
  /** http://127.0.0.1:port (the SDK's grpc exporters take a URL) */
  readonly url: string;
  readonly address: string;
  readonly requests: { [S in Signal]: Buffer[] };
  close(): Promise<void>;
}

/** A gRPC server with the three OTLP services (raw definitions), recording request bytes. */
export async function startGrpcCapture(): Promise<GrpcCapture> {
  const requests: { [S in Signal]: Buffer[] } = { traces: [], metrics: [], logs: [] };
  const server = new grpc.Server();
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    server.addService(otlpGrpcRawServices[signal], {
      Export: (call: grpc.ServerUnaryCall<Buffer, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        requests[signal].push(call.request);
        cb(null, { rejected: 0, message: '' });
      },
    });
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    url: `http://127.0.0.1:${port}`,
    address: `127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

interface SdkExporter<T> {
  export(items: T, cb: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
}

/** Exports through a real SDK exporter and fails if the SDK reports a failure. */
export function sdkExport<T>(exporter: SdkExporter<T>, items: T): Promise<void> {
  return new Promise((resolve, reject) => {
    exporter.export(items, (result) => {
      if (result.code === 0) resolve();
      else reject(result.error ?? new Error(`export failed with code ${result.code}`));
    });
  });
}

// ---- canonical views ---------------------------------------------------------------------------
// Plain JSON-able values: ids in hex, 64-bit integers as decimal strings, AnyValue tagged by kind.

export type CanonValue =
  | { s: string } | { b: boolean } | { i: string } | { d: number } | { bytes: string }
  | { a: CanonValue[] } | { kv: Array<[string, CanonValue]> } | Record<string, never>;

type Obj = Record<string, unknown>;
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k) && (o as Obj)[k] != null;

export function nsOf(v: unknown): string {
  if (v == null) return '0';
  if (Long.isLong(v)) return (v as Long).toUnsigned().toString();
  return BigInt(v as number).toString();
}
export function hrNs(hr: HrTime): string {
  return (BigInt(Math.trunc(hr[0])) * 1_000_000_000n + BigInt(Math.trunc(hr[1]))).toString();
}
export function hex(id: unknown): string {
  if (id == null) return '';
  if (!(id instanceof Uint8Array)) return Buffer.from(id as number[]).toString('hex');
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}
const str = (v: unknown): string => (v == null ? '' : String(v));
const num = (v: unknown): number => (v == null ? 0 : Number(v));

/** A decoded AnyValue (which oneof member is set is what own properties say). */
export function canonAny(v: unknown): CanonValue {
  if (v == null) return {};
  const o = v as Obj;
  if (hasOwn(o, 'stringValue')) return { s: o.stringValue as string };
  if (hasOwn(o, 'boolValue')) return { b: o.boolValue as boolean };
  if (hasOwn(o, 'intValue')) return { i: Long.isLong(o.intValue) ? (o.intValue as Long).toString() : String(o.intValue) };
  if (hasOwn(o, 'doubleValue')) return { d: o.doubleValue as number };
  if (hasOwn(o, 'bytesValue')) return { bytes: hex(o.bytesValue) };
  if (hasOwn(o, 'arrayValue')) return { a: ((o.arrayValue as Obj).values as unknown[]).map(canonAny) };
  if (hasOwn(o, 'kvlistValue')) return { kv: canonAttrs((o.kvlistValue as Obj).values) };
  return {};
}
export function canonAttrs(kvs: unknown): Array<[string, CanonValue]> {
  return ((kvs as Obj[] | undefined) ?? []).map((kv) => [str(kv.key), canonAny(kv.value)]);
}

/** An SDK attribute / log body value, by the OTel JS mapping (integral numbers are ints). */
export function sdkAny(v: unknown): CanonValue {
  if (typeof v === 'string') return { s: v };
  if (typeof v === 'boolean') return { b: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { i: String(v) } : { d: v };
  if (v instanceof Uint8Array) return { bytes: hex(v) };
  if (Array.isArray(v)) return { a: v.map(sdkAny) };
  if (v !== null && typeof v === 'object') return { kv: sdkAttrs(v as Attributes) };
  return {};
}
export function sdkAttrs(a: Attributes | undefined): Array<[string, CanonValue]> {
  return Object.keys(a ?? {}).map((k) => [k, sdkAny((a as Obj)[k])]);
}

export interface CanonScope { name: string; version: string; attributes: Array<[string, CanonValue]>; droppedAttributesCount: number }

function canonScope(s: unknown): CanonScope {
  const o = (s ?? {}) as Obj;
  return { name: str(o.name), version: str(o.version), attributes: canonAttrs(o.attributes), droppedAttributesCount: num(o.droppedAttributesCount) };
}
function sdkScope(s: { name: string; version?: string; attributes?: Attributes; droppedAttributesCount?: number }): CanonScope {
  return { name: s.name, version: s.version ?? '', attributes: sdkAttrs(s.attributes), droppedAttributesCount: s.droppedAttributesCount ?? 0 };
}

/** Everything about one item plus where it sits: resource attributes, scope, scope schema URL. */
export interface Placed<T> { resource: Array<[string, CanonValue]>; scope: CanonScope; scopeSchemaUrl: string; item: T }

// -- traces

export function canonSpan(s: Obj): Obj {
  const status = (s.status ?? {}) as Obj;
  return {
    traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId),
    traceState: str(s.traceState), flags: num(s.flags), name: str(s.name), kind: num(s.kind),
    start: nsOf(s.startTimeUnixNano), end: nsOf(s.endTimeUnixNano),
    attributes: canonAttrs(s.attributes), droppedAttributesCount: num(s.droppedAttributesCount),
    events: ((s.events as Obj[]) ?? []).map((e) => ({
      time: nsOf(e.timeUnixNano), name: str(e.name), attributes: canonAttrs(e.attributes), droppedAttributesCount: num(e.droppedAttributesCount),
    })),
    droppedEventsCount: num(s.droppedEventsCount),
    links: ((s.links as Obj[]) ?? []).map((l) => ({
      traceId: hex(l.traceId), spanId: hex(l.spanId), traceState: str(l.traceState),
      attributes: canonAttrs(l.attributes), droppedAttributesCount: num(l.droppedAttributesCount), flags: num(l.flags),
    })),
    droppedLinksCount: num(s.droppedLinksCount),
    status: { code: num(status.code), message: str(status.message) },
  };
}

// W3C trace flags in the low byte; bit 8 says whether is-remote is known, bit 9 is its value.
function spanFlags(ctx: SpanContext, parentRemote: boolean | undefined): number {
  return (ctx.traceFlags & 0xff) | 0x100 | (parentRemote ? 0x200 : 0);
}

export function sdkSpan(s: ReadableSpan): Obj {
  const ctx = s.spanContext();
  return {
    traceId: ctx.traceId, spanId: ctx.spanId, parentSpanId: s.parentSpanContext?.spanId ?? '',
    traceState: ctx.traceState?.serialize() ?? '', flags: spanFlags(ctx, s.parentSpanContext?.isRemote),
    name: s.name, kind: s.kind + 1, // the API has no UNSPECIFIED: OTLP kind = API kind + 1
    start: hrNs(s.startTime), end: hrNs(s.endTime),
    attributes: sdkAttrs(s.attributes), droppedAttributesCount: s.droppedAttributesCount,
    events: s.events.map((e) => ({
      time: hrNs(e.time), name: e.name, attributes: sdkAttrs(e.attributes), droppedAttributesCount: e.droppedAttributesCount ?? 0,
    })),
    droppedEventsCount: s.droppedEventsCount,
    links: s.links.map((l) => ({
      traceId: l.context.traceId, spanId: l.context.spanId, traceState: l.context.traceState?.serialize() ?? '',
      attributes: sdkAttrs(l.attributes), droppedAttributesCount: l.droppedAttributesCount ?? 0,
      flags: spanFlags(l.context, l.context.isRemote),
    })),
    droppedLinksCount: s.droppedLinksCount,
    status: { code: s.status.code, message: s.status.message ?? '' },
  };
}

export function placedSpans(req: unknown): Array<Placed<Obj>> {
  const out: Array<Placed<Obj>> = [];
  for (const rs of (req as Obj).resourceSpans as Obj[]) {
    const resource = canonAttrs(((rs.resource ?? {}) as Obj).attributes);
    for (const ss of rs.scopeSpans as Obj[]) {
      for (const s of ss.spans as Obj[]) out.push({ resource, scope: canonScope(ss.scope), scopeSchemaUrl: str(ss.schemaUrl), item: canonSpan(s) });
    }
  }
  return out;
}
export function sdkPlacedSpans(spans: readonly ReadableSpan[]): Array<Placed<Obj>> {
  return spans.map((s) => ({
    resource: sdkAttrs(s.resource.attributes), scope: sdkScope(s.instrumentationScope),
    scopeSchemaUrl: s.instrumentationScope.schemaUrl ?? '', item: sdkSpan(s),
  }));
}

// -- metrics

function canonExemplars(e: unknown): unknown[] {
  return ((e as Obj[]) ?? []).map((x) => ({ attrs: canonAttrs(x.filteredAttributes), time: nsOf(x.timeUnixNano) }));
}

export function canonMetric(m: Obj): Obj {
  const base = { name: str(m.name), description: str(m.description), unit: str(m.unit) };
  const pt = (p: Obj) => ({ attributes: canonAttrs(p.attributes), start: nsOf(p.startTimeUnixNano), time: nsOf(p.timeUnixNano), flags: num(p.flags), exemplars: canonExemplars(p.exemplars) });
  const numVal = (p: Obj) => (hasOwn(p, 'asInt') ? { int: (p.asInt as Long).toString() } : hasOwn(p, 'asDouble') ? { double: p.asDouble } : {});
  const opt = (v: unknown) => (v == null ? null : v);
  if (m.sum) {
    const b = m.sum as Obj;
    return { ...base, type: 'sum', temporality: num(b.aggregationTemporality), monotonic: Boolean(b.isMonotonic), points: (b.dataPoints as Obj[]).map((p) => ({ ...pt(p), value: numVal(p) })) };
  }
  if (m.gauge) {
    const b = m.gauge as Obj;
    return { ...base, type: 'gauge', points: (b.dataPoints as Obj[]).map((p) => ({ ...pt(p), value: numVal(p) })) };
  }
  if (m.histogram) {
    const b = m.histogram as Obj;
    return {
      ...base, type: 'histogram', temporality: num(b.aggregationTemporality),
      points: (b.dataPoints as Obj[]).map((p) => ({
        ...pt(p), count: nsOf(p.count), sum: opt(p.sum), min: opt(p.min), max: opt(p.max),
        bounds: [...(p.explicitBounds as number[])], counts: (p.bucketCounts as Long[]).map((c) => c.toString()),
      })),
    };
  }
  if (m.exponentialHistogram) {
    const b = m.exponentialHistogram as Obj;
    const buckets = (x: unknown) => ({ offset: num((x as Obj | null)?.offset), counts: (((x as Obj | null)?.bucketCounts as Long[]) ?? []).map((c) => c.toString()) });
    return {
      ...base, type: 'exponentialHistogram', temporality: num(b.aggregationTemporality),
      points: (b.dataPoints as Obj[]).map((p) => ({
        ...pt(p), count: nsOf(p.count), sum: opt(p.sum), min: opt(p.min), max: opt(p.max), scale: num(p.scale),
        zeroCount: nsOf(p.zeroCount), zeroThreshold: num(p.zeroThreshold), positive: buckets(p.positive), negative: buckets(p.negative),
      })),
    };
  }
  return { ...base, type: 'none' };
}

function sdkTemporality(t: SdkTemporality): number {
  return t === SdkTemporality.DELTA ? 1 : 2;
}

export function sdkMetric(m: MetricData): Obj {
  const d = m.descriptor;
  const base = { name: d.name, description: d.description, unit: d.unit };
  const pt = (p: DataPoint<unknown>) => ({ attributes: sdkAttrs(p.attributes), start: hrNs(p.startTime), time: hrNs(p.endTime), flags: 0, exemplars: [] });
  // api ValueType: INT = 0, DOUBLE = 1
  const numVal = (v: number) => (d.valueType === 0 ? { int: String(v) } : { double: v });
  switch (m.dataPointType) {
    case DataPointType.SUM:
      return { ...base, type: 'sum', temporality: sdkTemporality(m.aggregationTemporality), monotonic: m.isMonotonic, points: m.dataPoints.map((p) => ({ ...pt(p), value: numVal(p.value) })) };
    case DataPointType.GAUGE:
      return { ...base, type: 'gauge', points: m.dataPoints.map((p) => ({ ...pt(p), value: numVal(p.value) })) };
    case DataPointType.HISTOGRAM:
      return {
        ...base, type: 'histogram', temporality: sdkTemporality(m.aggregationTemporality),
        points: m.dataPoints.map((p) => {
          const h = p.value as Histogram;
          return { ...pt(p), count: String(h.count), sum: h.sum ?? null, min: h.min ?? null, max: h.max ?? null, bounds: h.buckets.boundaries, counts: h.buckets.counts.map(String) };
        }),
      };
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return {
        ...base, type: 'exponentialHistogram', temporality: sdkTemporality(m.aggregationTemporality),
        points: m.dataPoints.map((p) => {
          const h = p.value as ExponentialHistogram;
          return {
            ...pt(p), count: String(h.count), sum: h.sum ?? null, min: h.min ?? null, max: h.max ?? null, scale: h.scale,
            zeroCount: String(h.zeroCount), zeroThreshold: 0,
            positive: { offset: h.positive.offset, counts: h.positive.bucketCounts.map(String) },
            negative: { offset: h.negative.offset, counts: h.negative.bucketCounts.map(String) },
          };
        }),
      };
  }
}

export function placedMetrics(req: unknown): Array<Placed<Obj>> {
  const out: Array<Placed<Obj>> = [];
  for (const rm of (req as Obj).resourceMetrics as Obj[]) {
    const resource = canonAttrs(((rm.resource ?? {}) as Obj).attributes);
    for (const sm of rm.scopeMetrics as Obj[]) {
      for (const m of sm.metrics as Obj[]) out.push({ resource, scope: canonScope(sm.scope), scopeSchemaUrl: str(sm.schemaUrl), item: canonMetric(m) });
    }
  }
  return out;
}
export function sdkPlacedMetrics(rms: readonly ResourceMetrics[]): Array<Placed<Obj>> {
  const out: Array<Placed<Obj>> = [];
  for (const rm of rms) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        out.push({ resource: sdkAttrs(rm.resource.attributes), scope: sdkScope(sm.scope), scopeSchemaUrl: sm.scope.schemaUrl ?? '', item: sdkMetric(m) });
      }
    }
  }
  return out;
}

// -- logs

export function canonLog(r: Obj): Obj {
  return {
    time: nsOf(r.timeUnixNano), observed: nsOf(r.observedTimeUnixNano), severityNumber: num(r.severityNumber),
    severityText: str(r.severityText), body: canonAny(r.body), attributes: canonAttrs(r.attributes),
    droppedAttributesCount: num(r.droppedAttributesCount), flags: num(r.flags), traceId: hex(r.traceId),
    spanId: hex(r.spanId), eventName: str(r.eventName),
  };
}
export function sdkLog(r: ReadableLogRecord): Obj {
  return {
    time: hrNs(r.hrTime), observed: hrNs(r.hrTimeObserved), severityNumber: r.severityNumber ?? 0,
    severityText: r.severityText ?? '', body: r.body === undefined ? {} : sdkAny(r.body), attributes: sdkAttrs(r.attributes as Attributes),
    droppedAttributesCount: r.droppedAttributesCount, flags: r.spanContext?.traceFlags ?? 0,
    traceId: r.spanContext?.traceId ?? '', spanId: r.spanContext?.spanId ?? '', eventName: r.eventName ?? '',
  };
}
export function placedLogs(req: unknown): Array<Placed<Obj>> {
  const out: Array<Placed<Obj>> = [];
  for (const rl of (req as Obj).resourceLogs as Obj[]) {
    const resource = canonAttrs(((rl.resource ?? {}) as Obj).attributes);
    for (const sl of rl.scopeLogs as Obj[]) {
      for (const r of sl.logRecords as Obj[]) out.push({ resource, scope: canonScope(sl.scope), scopeSchemaUrl: str(sl.schemaUrl), item: canonLog(r) });
    }
  }
  return out;
}
export function sdkPlacedLogs(recs: readonly ReadableLogRecord[]): Array<Placed<Obj>> {
  return recs.map((r) => ({
    resource: sdkAttrs(r.resource.attributes), scope: sdkScope(r.instrumentationScope as CanonScopeInput),
    scopeSchemaUrl: r.instrumentationScope.schemaUrl ?? '', item: sdkLog(r),
  }));
}
type CanonScopeInput = { name: string; version?: string; attributes?: Attributes; droppedAttributesCount?: number };

/** Order-independent comparison: the SDK groups by resource and scope in its own order. */
export function assertSamePlaced(actual: Array<Placed<Obj>>, expected: Array<Placed<Obj>>, what: string): void {
  const key = (p: Placed<Obj>) => JSON.stringify(p);
  assert.equal(actual.length, expected.length, `${what}: item count`);
  const a = actual.map(key).sort();
  const e = expected.map(key).sort();
  for (let i = 0; i < a.length; i++) {
    // assert.deepEqual's diff of large objects can take minutes: report the first difference.
    if (a[i] !== e[i]) {
      const byName = (list: string[], probe: string) => list.find((x) => sameItemName(x, probe)) ?? list[i];
      const other = byName(e, a[i]);
      assert.fail(`${what}: ${firstDiff(JSON.parse(a[i]), JSON.parse(other), '')}\n  actual:   ${a[i].slice(0, 600)}\n  expected: ${other.slice(0, 600)}`);
    }
  }
}

function sameItemName(x: string, y: string): boolean {
  const n = (s: string) => (JSON.parse(s) as { item: { name?: string; spanId?: string; time?: string } }).item;
  const a = n(x);
  const b = n(y);
  return a.name === b.name && a.spanId === b.spanId;
}

/** The path and values of the first difference between two JSON values. */
export function firstDiff(a: unknown, b: unknown, path: string): string {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || a === null || b === null || typeof a !== 'object') {
    return a === b ? '' : `${path || '<root>'}: ${JSON.stringify(a)} != ${JSON.stringify(b)} (actual != expected)`;
  }
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  for (const k of keys) {
    const d = firstDiff((a as Obj)[k], (b as Obj)[k], Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`);
    if (d) return d;
  }
  return '';
}

// ---- structural equality of decoded messages ---------------------------------------------------

/**
 * Asserts two messages of `type` carry the same data with the same JS shapes: Long (same
 * signedness) for 64-bit fields, Buffer for bytes, the same generated class for messages,
 * the same oneof member set, the same own (set) fields.
 */
export function assertSameMessage(type: protobuf.Type, a: unknown, b: unknown, path = ''): void {
  const at = (p: string) => `${path || '<root>'}${p}`;
  assert.ok(a !== null && typeof a === 'object' && b !== null && typeof b === 'object', `${at('')}: both objects`);
  assert.equal(Object.getPrototypeOf(a), Object.getPrototypeOf(b), `${at('')}: same class`);
  const x = a as Obj;
  const y = b as Obj;
  // Same own fields too: protobufjs decode never stores a proto3 default, so neither may JSON decode.
  assert.deepEqual(Object.keys(x).sort(), Object.keys(y).sort(), `${at('')}: same fields set`);
  for (const f of type.fieldsArray) {
    f.resolve();
    const p = path ? `${path}.${f.name}` : f.name;
    if (f.partOf) {
      assert.equal(hasOwn(x, f.name), hasOwn(y, f.name), `${p}: presence`);
      if (!hasOwn(x, f.name)) continue;
    }
    const va = x[f.name];
    const vb = y[f.name];
    if (f.repeated) {
      const la = (va as unknown[] | null) ?? [];
      const lb = (vb as unknown[] | null) ?? [];
      assert.equal(la.length, lb.length, `${p}: length`);
      for (let i = 0; i < la.length; i++) sameValue(f, la[i], lb[i], `${p}[${i}]`);
    } else {
      sameValue(f, va, vb, p);
    }
  }
}

function sameValue(f: protobuf.Field, a: unknown, b: unknown, p: string): void {
  if (f.resolvedType instanceof protobuf.Type) {
    assert.equal(a == null, b == null, `${p}: presence`);
    if (a != null) assertSameMessage(f.resolvedType, a, b, p);
    return;
  }
  if (f.long) {
    assert.ok(Long.isLong(a) && Long.isLong(b), `${p}: both Long (got ${String(a)}, ${String(b)})`);
    assert.equal((a as Long).unsigned, (b as Long).unsigned, `${p}: signedness`);
    assert.ok((a as Long).equals(b as Long), `${p}: ${String(a)} != ${String(b)}`);
    return;
  }
  if (f.type === 'bytes') {
    assert.ok(Buffer.isBuffer(a), `${p}: Buffer (a)`);
    assert.ok(Buffer.isBuffer(b), `${p}: Buffer (b)`);
    assert.equal(hex(a), hex(b), p);
    return;
  }
  assert.ok(Object.is(a, b), `${p}: ${String(a)} != ${String(b)}`);
}
