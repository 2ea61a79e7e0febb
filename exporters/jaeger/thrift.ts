// OTLP pdata -> Jaeger Thrift Batch (jaeger-idl thrift/jaeger.thrift) in TBinaryProtocol, written
// straight into one growing Buffer: no Batch/Span/Tag objects in between. The mapping follows the
// OpenTelemetry specification's Jaeger transformation (trace/sdk_exporters/jaeger.md) and its
// generic non-OTLP rules (common/mapping-to-non-otlp.md); where the two differ the Jaeger page wins.
import type Long from 'long';
import type { AnyValue, Int64, KeyValue, Nanos, ResourceSpans, Span, SpanEvent } from '../../pipeline/pdata';
import { isSet } from '../../pipeline/pdata-ops';

// TBinaryProtocol type ids.
const T_STOP = 0;
const T_BOOL = 2;
const T_DOUBLE = 4;
const T_I32 = 8;
const T_I64 = 10;
const T_STRING = 11;
const T_STRUCT = 12;
const T_LIST = 15;

// jaeger.thrift enums (i32 on the wire).
const TAG_STRING = 0;
const TAG_DOUBLE = 1;
const TAG_BOOL = 2;
const TAG_LONG = 3;
const TAG_BINARY = 4;
const REF_CHILD_OF = 0;
const REF_FOLLOWS_FROM = 1;

/** Jaeger's span.kind values; INTERNAL and UNSPECIFIED get no tag (the spec's SHOULD NOT). */
const KIND: readonly (string | undefined)[] = [undefined, undefined, 'server', 'client', 'producer', 'consumer'];

/** The default Resource's service.name, used when a resource has none (spec: MUST). */
export const UNKNOWN_SERVICE = 'unknown_service';

const TWO_32 = 4294967296;

/** A TBinaryProtocol writer over one Buffer that doubles when full; reused across batches. */
export class ThriftWriter {
  private buf: Buffer;
  pos = 0;

  constructor(initialSize = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  reset(): void {
    this.pos = 0;
  }

  /** A copy of what was written (the writer's buffer is reused for the next batch). */
  take(from = 0): Buffer {
    const out = Buffer.allocUnsafe(this.pos - from);
    this.buf.copy(out, 0, from, this.pos);
    return out;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  field(type: number, id: number): void {
    this.ensure(3);
    const b = this.buf;
    const p = this.pos;
    b[p] = type;
    b[p + 1] = id >>> 8;
    b[p + 2] = id & 0xff;
    this.pos = p + 3;
  }

  stop(): void {
    this.ensure(1);
    this.buf[this.pos++] = T_STOP;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  i32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
    this.pos = p + 4;
  }

  /** An i64 from its two 32-bit halves (any sign: the bits are written as they are). */
  i64(high: number, low: number): void {
    this.ensure(8);
    this.buf.writeUInt32BE(high >>> 0, this.pos);
    this.buf.writeUInt32BE(low >>> 0, this.pos + 4);
    this.pos += 8;
  }

  /** An i64 from a safe integer. */
  i64n(v: number): void {
    this.i64(Math.floor(v / TWO_32), v >>> 0);
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  string(s: string): void {
    const len = s.length;
    this.ensure(4 + len * 3);
    const b = this.buf;
    const start = this.pos + 4;
    let n = 0;
    // Short ASCII strings (keys, most values) byte by byte: cheaper than a call into utf8Write.
    if (len <= 64) {
      while (n < len) {
        const c = s.charCodeAt(n);
        if (c >= 0x80) break;
        b[start + n] = c;
        n++;
      }
    }
    if (n < len) n = b.write(s, start, 'utf8');
    this.i32(n);
    this.pos = start + n;
  }

  binary(b: Uint8Array): void {
    this.ensure(4 + b.length);
    this.buf.writeInt32BE(b.length, this.pos);
    this.buf.set(b, this.pos + 4);
    this.pos += 4 + b.length;
  }

  /** 8 bytes of an id, big-endian, as if the id were left-padded with zeros (or cut) to `width`. */
  idBytes(id: Uint8Array | undefined, width: number, start: number): void {
    this.ensure(8);
    const len = id ? id.length : 0;
    const shift = width - len;
    for (let i = 0; i < 8; i++) {
      const j = start + i - shift;
      this.buf[this.pos + i] = id && j >= 0 && j < len ? id[j]! : 0;
    }
    this.pos += 8;
  }

  /** A list header whose size is patched later; returns where the size goes. */
  listBegin(elemType: number): number {
    this.ensure(5);
    this.buf[this.pos] = elemType;
    const at = this.pos + 1;
    this.pos += 5;
    return at;
  }

  patchI32(at: number, v: number): void {
    this.buf.writeInt32BE(v, at);
  }
}

// ---- tags ------------------------------------------------------------------------------------

function tagHead(w: ThriftWriter, key: string, type: number): void {
  w.field(T_STRING, 1);
  w.string(key);
  w.field(T_I32, 2);
  w.i32(type);
}

function tagString(w: ThriftWriter, key: string, v: string): void {
  tagHead(w, key, TAG_STRING);
  w.field(T_STRING, 3);
  w.string(v);
  w.stop();
}

function tagBool(w: ThriftWriter, key: string, v: boolean): void {
  tagHead(w, key, TAG_BOOL);
  w.field(T_BOOL, 5);
  w.bool(v);
  w.stop();
}

function tagLongN(w: ThriftWriter, key: string, v: number): void {
  tagHead(w, key, TAG_LONG);
  w.field(T_I64, 6);
  w.i64n(v);
  w.stop();
}

function tagLong(w: ThriftWriter, key: string, v: Int64): void {
  tagHead(w, key, TAG_LONG);
  w.field(T_I64, 6);
  if (typeof v === 'number') w.i64n(Math.trunc(v));
  else w.i64((v as Long).high, (v as Long).low);
  w.stop();
}

function tagDouble(w: ThriftWriter, key: string, v: number): void {
  tagHead(w, key, TAG_DOUBLE);
  w.field(T_DOUBLE, 4);
  w.double(v);
  w.stop();
}

function tagBinary(w: ThriftWriter, key: string, v: Uint8Array): void {
  tagHead(w, key, TAG_BINARY);
  w.field(T_STRING, 7);
  w.binary(v);
  w.stop();
}

/** One attribute as one Tag: primitives keep their type, arrays and maps become JSON strings. */
function tagOf(w: ThriftWriter, key: string, v: AnyValue | undefined): void {
  if (v == null) return tagString(w, key, '');
  // Most attributes are non-empty strings: no presence check needed (a decoded message's
  // prototype default is the empty string).
  const sv = v.stringValue;
  if (typeof sv === 'string' && sv !== '') return tagString(w, key, sv);
  if (isSet(v, 'stringValue')) return tagString(w, key, v.stringValue!);
  if (isSet(v, 'boolValue')) return tagBool(w, key, v.boolValue!);
  if (isSet(v, 'intValue')) return tagLong(w, key, v.intValue!);
  if (isSet(v, 'doubleValue')) return tagDouble(w, key, v.doubleValue!);
  if (isSet(v, 'bytesValue')) return tagBinary(w, key, v.bytesValue!);
  if (v.arrayValue != null || v.kvlistValue != null) return tagString(w, key, jsonOf(v));
  // An empty AnyValue: OTLP's "no value"; Jaeger has none, so an empty string keeps the key.
  return tagString(w, key, '');
}

/** Writes the attributes as tags, skipping `skip` (keys another rule writes); returns the count. */
function attributeTags(w: ThriftWriter, attrs: readonly KeyValue[] | undefined, skip?: string, skip2?: string): number {
  if (!attrs) return 0;
  let n = 0;
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i]!;
    const key = kv.key ?? '';
    if (key === skip || key === skip2) continue;
    tagOf(w, key, kv.value);
    n++;
  }
  return n;
}

// ---- JSON for arrays and maps (the spec: "like a JSON list"); int64 stays exact ----------------

function jsonOf(v: AnyValue | undefined): string {
  if (v == null) return 'null';
  if (isSet(v, 'stringValue')) return JSON.stringify(v.stringValue);
  if (isSet(v, 'boolValue')) return v.boolValue ? 'true' : 'false';
  if (isSet(v, 'intValue')) return typeof v.intValue === 'number' ? String(Math.trunc(v.intValue)) : (v.intValue as Long).toString();
  if (isSet(v, 'doubleValue')) {
    const d = v.doubleValue!;
    // JSON has no NaN or Infinity: their names as strings, as OTLP/JSON writes them.
    return Number.isFinite(d) ? String(d) : JSON.stringify(String(d));
  }
  if (isSet(v, 'bytesValue')) return JSON.stringify(Buffer.from(v.bytesValue!.buffer, v.bytesValue!.byteOffset, v.bytesValue!.byteLength).toString('base64'));
  if (v.arrayValue != null) {
    const values = v.arrayValue.values ?? [];
    let out = '[';
    for (let i = 0; i < values.length; i++) out += (i ? ',' : '') + jsonOf(values[i]);
    return out + ']';
  }
  if (v.kvlistValue != null) {
    const values = v.kvlistValue.values ?? [];
    let out = '{';
    for (let i = 0; i < values.length; i++) out += (i ? ',' : '') + JSON.stringify(values[i]!.key ?? '') + ':' + jsonOf(values[i]!.value);
    return out + '}';
  }
  return 'null';
}

/** The text of a service.name that is not a string (a number, say): better than losing it. */
function plainText(v: AnyValue | undefined): string {
  if (v != null && isSet(v, 'stringValue')) return v.stringValue!;
  return jsonOf(v);
}

// ---- time ------------------------------------------------------------------------------------

/** Microseconds since the epoch from unsigned nanoseconds, truncated, exact below 2^53 us. */
export function micros(n: Nanos | undefined): number {
  if (n == null) return 0;
  const hi = n.high >>> 0;
  const lo = n.low >>> 0;
  // hi * 2^32 = hi * 4294967 * 1000 + hi * 296: no intermediate above 2^53.
  return hi * 4294967 + Math.floor((hi * 296 + lo) / 1000);
}

/** end - start in microseconds, truncated; 0 when end is before start. */
function durationMicros(start: Nanos | undefined, end: Nanos | undefined): number {
  if (start == null || end == null) return 0;
  const ns = ((end.high >>> 0) - (start.high >>> 0)) * TWO_32 + ((end.low >>> 0) - (start.low >>> 0));
  return ns > 0 ? Math.floor(ns / 1000) : 0;
}

// ---- structs ---------------------------------------------------------------------------------

/** The scope's tags, computed once per scope group and written for each of its spans. */
interface ScopeTags { name: string; version: string; attributes: readonly KeyValue[] }

function hasKey(attrs: readonly KeyValue[], key: string): boolean {
  for (let i = 0; i < attrs.length; i++) if (attrs[i]!.key === key) return true;
  return false;
}

function spanTags(w: ThriftWriter, span: Span, scope: ScopeTags): void {
  w.field(T_LIST, 10);
  const sizeAt = w.listBegin(T_STRUCT);
  const start = w.pos;
  const code = span.status?.code ?? 0;
  const attrs = span.attributes ?? [];
  // Status ERROR adds error=true, which the spec lets override an `error` attribute.
  let n = attributeTags(w, attrs, code === 2 ? 'error' : undefined);
  if (scope.name) { tagString(w, 'otel.scope.name', scope.name); tagString(w, 'otel.library.name', scope.name); n += 2; }
  if (scope.version) { tagString(w, 'otel.scope.version', scope.version); tagString(w, 'otel.library.version', scope.version); n += 2; }
  for (let i = 0; i < scope.attributes.length; i++) {
    // Scope attributes go on the span (non-OTLP rule); the span's own attribute wins a clash.
    const kv = scope.attributes[i]!;
    if (hasKey(attrs, kv.key ?? '')) continue;
    tagOf(w, kv.key ?? '', kv.value);
    n++;
  }
  const kind = KIND[span.kind ?? 0];
  if (kind) { tagString(w, 'span.kind', kind); n++; }
  if (code === 1 || code === 2) {
    tagString(w, 'otel.status_code', code === 1 ? 'OK' : 'ERROR');
    n++;
    const message = span.status?.message;
    if (message) { tagString(w, 'otel.status_description', message); n++; }
    if (code === 2) { tagBool(w, 'error', true); n++; }
  }
  if (span.traceState) { tagString(w, 'w3c.tracestate', span.traceState); n++; }
  if (span.droppedAttributesCount) { tagLongN(w, 'otel.dropped_attributes_count', span.droppedAttributesCount); n++; }
  if (span.droppedEventsCount) { tagLongN(w, 'otel.dropped_events_count', span.droppedEventsCount); n++; }
  if (span.droppedLinksCount) { tagLongN(w, 'otel.dropped_links_count', span.droppedLinksCount); n++; }
  if (n === 0) w.pos = start - 8; // no tags: leave the optional field out (3 + 5 header bytes)
  else w.patchI32(sizeAt, n);
}

function eventLog(w: ThriftWriter, e: SpanEvent): void {
  w.field(T_I64, 1);
  w.i64n(micros(e.timeUnixNano));
  w.field(T_LIST, 2);
  const sizeAt = w.listBegin(T_STRUCT);
  const attrs = e.attributes ?? [];
  let n = 0;
  // The name as the `event` field, unless an attribute `event` is there (it takes precedence).
  if (e.name && !hasKey(attrs, 'event')) { tagString(w, 'event', e.name); n++; }
  n += attributeTags(w, attrs);
  if (e.droppedAttributesCount) { tagLongN(w, 'otel.event.dropped_attributes_count', e.droppedAttributesCount); n++; }
  w.patchI32(sizeAt, n);
  w.stop();
}

function spanRef(w: ThriftWriter, type: number, traceId: Uint8Array | undefined, spanId: Uint8Array | undefined): void {
  w.field(T_I32, 1);
  w.i32(type);
  w.field(T_I64, 2);
  w.idBytes(traceId, 16, 8);
  w.field(T_I64, 3);
  w.idBytes(traceId, 16, 0);
  w.field(T_I64, 4);
  w.idBytes(spanId, 8, 0);
  w.stop();
}

function hasId(id: Uint8Array | undefined): boolean {
  if (!id) return false;
  for (let i = 0; i < id.length; i++) if (id[i] !== 0) return true;
  return false;
}

/** Writes one Span; returns how many link attributes Thrift had no place for. */
function span(w: ThriftWriter, s: Span, scope: ScopeTags): number {
  // The 128-bit trace id as two i64: the spec's big-endian bytes re-read as signed, i.e. the bytes.
  w.field(T_I64, 1);
  w.idBytes(s.traceId, 16, 8);
  w.field(T_I64, 2);
  w.idBytes(s.traceId, 16, 0);
  w.field(T_I64, 3);
  w.idBytes(s.spanId, 8, 0);
  w.field(T_I64, 4);
  const parent = hasId(s.parentSpanId);
  w.idBytes(parent ? s.parentSpanId : undefined, 8, 0);
  w.field(T_STRING, 5);
  w.string(s.name ?? '');
  const links = s.links ?? [];
  let lost = 0;
  if (parent || links.length > 0) {
    // The parent first as CHILD_OF, then the links as FOLLOWS_FROM (spec order).
    w.field(T_LIST, 6);
    const sizeAt = w.listBegin(T_STRUCT);
    if (parent) spanRef(w, REF_CHILD_OF, s.traceId, s.parentSpanId);
    for (let i = 0; i < links.length; i++) {
      spanRef(w, REF_FOLLOWS_FROM, links[i]!.traceId, links[i]!.spanId);
      // A SpanRef has no tags: the spec accepts that link attributes are lost.
      lost += links[i]!.attributes?.length ?? 0;
    }
    w.patchI32(sizeAt, links.length + (parent ? 1 : 0));
  }
  w.field(T_I32, 7);
  // Only "sampled" (bit 0) means the same in W3C trace flags and Jaeger flags; W3C level 2's
  // 0x02 (random trace id) would read as Jaeger's "debug".
  w.i32((s.flags ?? 0) & 1);
  w.field(T_I64, 8);
  w.i64n(micros(s.startTimeUnixNano));
  w.field(T_I64, 9);
  w.i64n(durationMicros(s.startTimeUnixNano, s.endTimeUnixNano));
  spanTags(w, s, scope);
  const events = s.events ?? [];
  if (events.length > 0) {
    w.field(T_LIST, 11);
    const sizeAt = w.listBegin(T_STRUCT);
    for (let i = 0; i < events.length; i++) eventLog(w, events[i]!);
    w.patchI32(sizeAt, events.length);
  }
  w.stop();
  return lost;
}

/** The service name of a resource: service.name, else the default Resource's. */
export function serviceName(rs: ResourceSpans): string {
  const attrs = rs.resource?.attributes ?? [];
  for (let i = 0; i < attrs.length; i++) {
    if (attrs[i]!.key === 'service.name') {
      const name = plainText(attrs[i]!.value);
      return name === '' ? UNKNOWN_SERVICE : name;
    }
  }
  return UNKNOWN_SERVICE;
}

/** Spans of one resource group. */
export function spanCount(rs: ResourceSpans): number {
  let n = 0;
  for (const ss of rs.scopeSpans ?? []) n += (ss.spans ?? []).length;
  return n;
}

/**
 * A key equal for resource groups whose resources are equal (same attributes in the same
 * order): such groups go into one Batch. A batch processor appends requests without merging
 * their resources, so one batch often holds the same resource many times.
 */
export function resourceKey(rs: ResourceSpans): string {
  const attrs = rs.resource?.attributes ?? [];
  let key = '';
  for (let i = 0; i < attrs.length; i++) key += `${JSON.stringify(attrs[i]!.key ?? '')}:${valueKey(attrs[i]!.value)},`;
  return key;
}

/** A value with its type (1 and 1.0 and "1" differ). */
function valueKey(v: AnyValue | undefined): string {
  if (v == null) return 'n';
  if (isSet(v, 'stringValue')) return `s${JSON.stringify(v.stringValue)}`;
  if (isSet(v, 'intValue')) return `i${jsonOf(v)}`;
  if (isSet(v, 'doubleValue')) return `d${String(v.doubleValue)}`;
  if (isSet(v, 'boolValue')) return `b${String(v.boolValue)}`;
  if (isSet(v, 'bytesValue')) return `x${jsonOf(v)}`;
  return `j${jsonOf(v)}`;
}

/**
 * One Jaeger Batch for resource groups that share one resource (the first one's is used):
 * Process {serviceName, tags = the other resource attributes} and every span of every scope,
 * at the writer's position. Returns the number of link attributes left out (Thrift cannot
 * carry them).
 */
export function writeBatch(w: ThriftWriter, groups: readonly ResourceSpans[]): number {
  const first = groups[0];
  w.field(T_STRUCT, 1); // process
  w.field(T_STRING, 1);
  w.string(first ? serviceName(first) : UNKNOWN_SERVICE);
  const attrs = first?.resource?.attributes ?? [];
  const tags = attrs.length - (hasKey(attrs, 'service.name') ? 1 : 0);
  if (tags > 0) {
    w.field(T_LIST, 2);
    const sizeAt = w.listBegin(T_STRUCT);
    w.patchI32(sizeAt, attributeTags(w, attrs, 'service.name'));
  }
  w.stop();
  w.field(T_LIST, 2); // spans
  const sizeAt = w.listBegin(T_STRUCT);
  let n = 0;
  let lost = 0;
  for (let g = 0; g < groups.length; g++) {
    for (const ss of groups[g]!.scopeSpans ?? []) {
      const spans = ss.spans ?? [];
      if (spans.length === 0) continue;
      const scope: ScopeTags = { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '', attributes: ss.scope?.attributes ?? [] };
      for (let i = 0; i < spans.length; i++) lost += span(w, spans[i]!, scope);
      n += spans.length;
    }
  }
  w.patchI32(sizeAt, n);
  w.stop();
  return lost;
}

/** A Batch as a fresh Buffer (tests, and callers that do not keep a writer). */
export function encodeBatch(rs: ResourceSpans | readonly ResourceSpans[], w = new ThriftWriter()): Buffer {
  w.reset();
  writeBatch(w, Array.isArray(rs) ? rs : [rs as ResourceSpans]);
  return w.take();
}
