// A hand-written protobuf decoder for the OTLP export requests (traces, metrics, logs), written
// from the field numbers in schema.ts. It yields exactly what protobufjs' decode of our schema
// yields (same constructors and prototypes, own property iff protobufjs would set one, Long for
// 64-bit, Buffer views for bytes, last-wins oneofs, merged repeated message fields), but:
// - one pass over module-level reader state, no reader object, no closures per field;
// - fixed64 as one Long allocation (no LongBits), small int64 values shared;
// - short ASCII strings (attribute keys and most values) interned in a direct-mapped cache, so
//   repeated keys allocate nothing; other strings are validated UTF-8 as protobufjs requires.
// Switching on the whole tag (field << 3 | wire type) means a known field with an unexpected
// wire type falls to `default` and is skipped as unknown, as protobufjs and protoc do.
import { isUtf8 } from 'node:buffer';
import Long from 'long';
import { MAX_DEPTH, Msg, MsgCtor, WireError, ctorOf, signedLong } from './fast-wire';

interface Utf8Buffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

// ---- reader state --------------------------------------------------------------------------

let buf: Utf8Buffer = Buffer.alloc(0) as Utf8Buffer;
let pos = 0;
/** End of the message being read. */
let lim = 0;
// The last 64-bit varint read (unsigned halves).
let lo = 0;
let hi = 0;

function fail(message: string): never {
  throw new WireError(message, pos);
}

/** The offset reported is where the data ran out: the locator then names the field that overran. */
function truncated(): never {
  throw new WireError('truncated message (a field runs past the end)', lim);
}

/** A varint as uint32 (the low 32 bits, like protobufjs and protoc); up to 10 bytes. */
function varint(): number {
  const p = pos;
  if (p < lim) {
    const b = buf[p]!;
    if (b < 0x80) {
      pos = p + 1;
      return b;
    }
  }
  return varintSlow();
}

function varintSlow(): number {
  let v = 0;
  let p = pos;
  for (let i = 0; i < 10; i++) {
    if (p >= lim) { pos = p; truncated(); }
    const b = buf[p++]!;
    if (i < 5) v |= (b & 0x7f) << (7 * i);
    if (b < 0x80) {
      pos = p;
      return v >>> 0;
    }
  }
  pos = p;
  return fail('varint longer than 10 bytes');
}

/** A field tag: at most 5 bytes and 32 bits, as protobufjs 8 insists. */
function readTag(): number {
  const p = pos;
  if (p < lim) {
    const b = buf[p]!;
    if (b < 0x80) {
      pos = p + 1;
      return b;
    }
  }
  return short32(0x10, 'invalid tag encoding');
}

/** A length: at most 5 bytes and below 2^31 (protobufjs 8's rule). */
function size(): number {
  const p = pos;
  if (p < lim) {
    const b = buf[p]!;
    if (b < 0x80) {
      pos = p + 1;
      return b;
    }
  }
  return short32(0x08, 'invalid length encoding');
}

/** A varint of at most 5 bytes whose fifth byte is below `fifthLimit`. */
function short32(fifthLimit: number, message: string): number {
  let v = 0;
  let p = pos;
  for (let i = 0; i < 5; i++) {
    if (p >= lim) { pos = p; truncated(); }
    const b = buf[p++]!;
    if (i === 4) {
      pos = p;
      if (b >= fifthLimit) fail(message);
      return (v | (b << 28)) >>> 0;
    }
    v |= (b & 0x7f) << (7 * i);
    if (b < 0x80) {
      pos = p;
      return v >>> 0;
    }
  }
  return fail(message);
}

/** A varint into lo/hi. */
function varint64(): void {
  let l = 0;
  let h = 0;
  let p = pos;
  for (let i = 0; i < 10; i++) {
    if (p >= lim) { pos = p; truncated(); }
    const b = buf[p++]!;
    if (i < 4) l |= (b & 0x7f) << (7 * i);
    else if (i === 4) {
      l |= (b & 0x0f) << 28;
      h |= (b & 0x7f) >> 4;
    } else h |= (b & 0x7f) << (7 * i - 32);
    if (b < 0x80) {
      pos = p;
      lo = l >>> 0;
      hi = h >>> 0;
      return;
    }
  }
  pos = p;
  fail('varint longer than 10 bytes');
}

function int64(): Long {
  varint64();
  return signedLong(lo, hi);
}

function uint64(): Long {
  varint64();
  return new Long(lo, hi, true);
}

function sint32(): number {
  const v = varint();
  return (v >>> 1) ^ -(v & 1);
}

function fixed32(): number {
  const p = pos;
  if (p + 4 > lim) truncated();
  pos = p + 4;
  return (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
}

function fixed64(unsigned: boolean): Long {
  const p = pos;
  if (p + 8 > lim) truncated();
  pos = p + 8;
  const l = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24);
  const h = buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24);
  return new Long(l, h, unsigned);
}

function double(): number {
  const p = pos;
  if (p + 8 > lim) truncated();
  pos = p + 8;
  return buf.readDoubleLE(p);
}

/** The end of a length-delimited field that starts at pos. */
function delimited(): number {
  const n = size();
  const end = pos + n;
  if (end > lim) truncated();
  return end;
}

function bytes(): Buffer {
  const end = delimited();
  const start = pos;
  pos = end;
  return buf.subarray(start, end);
}

// Interned short ASCII strings: a direct-mapped cache indexed by a hash of the bytes; a miss
// replaces the entry. Most OTLP strings are keys and low-cardinality values.
const INTERN_MAX = 48;
const INTERN_SLOTS = 8192;
const interned: string[] = new Array<string>(INTERN_SLOTS).fill('');

function string(): string {
  const end = delimited();
  const start = pos;
  pos = end;
  const n = end - start;
  if (n === 0) return '';
  const b = buf;
  if (n <= INTERN_MAX) {
    // The slot comes from the length and four sampled bytes (cheap, no loop); equality is then
    // checked byte by byte against the cached string, which is ASCII, so a hit is ASCII too.
    const last = end - 1;
    let h = Math.imul(n, 0x9e3779b1) ^ b[start]! ^ (b[last]! << 8) ^ (b[start + (n >> 1)]! << 16) ^ (b[last - (n >> 2)]! << 24);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    const slot = (h ^ (h >>> 13)) & (INTERN_SLOTS - 1);
    const s = interned[slot]!;
    if (s.length === n) {
      let i = 0;
      while (i < n && s.charCodeAt(i) === b[start + i]) i++;
      if (i === n) return s;
    }
    let or = 0;
    for (let i = start; i < end; i++) or |= b[i]!;
    if (or < 0x80) return (interned[slot] = b.latin1Slice(start, end));
  }
  // proto3 strings must be valid UTF-8 (protobufjs 8 rejects invalid ones too).
  if (!isUtf8(b.subarray(start, end))) {
    pos = start;
    fail('invalid UTF-8 in a string field');
  }
  return b.utf8Slice(start, end);
}

/** Skips a field of the given tag (unknown, or a known field with an unexpected wire type). */
function skip(tag: number, depth: number): void {
  const field = tag >>> 3;
  if (field === 0) fail('illegal tag: field number 0');
  switch (tag & 7) {
    case 0: skipVarint(); return;
    case 1: if ((pos += 8) > lim) { pos = lim; truncated(); } return;
    case 2: pos = delimited(); return;
    case 5: if ((pos += 4) > lim) { pos = lim; truncated(); } return;
    case 3: skipGroup(field, depth); return;
    default: fail(`invalid wire type ${tag & 7}`);
  }
}

/** protobufjs skips an unknown varint of any length. */
function skipVarint(): void {
  let p = pos;
  do {
    if (p >= lim) { pos = p; truncated(); }
  } while (buf[p++]! & 0x80);
  pos = p;
}

function skipGroup(field: number, depth: number): void {
  if (depth > MAX_DEPTH) fail('max depth exceeded');
  for (;;) {
    const tag = readTag();
    const f = tag >>> 3;
    if (f === 0) fail('illegal tag: field number 0');
    if ((tag & 7) === 4) {
      if (f !== field) fail('invalid end group tag');
      return;
    }
    skip(tag, depth + 1);
  }
}

/** Enters a length-delimited message; returns the enclosing limit to restore with leave(). */
function enter(depth: number): number {
  if (depth > MAX_DEPTH) fail('max depth exceeded');
  const end = delimited();
  const outer = lim;
  lim = end;
  return outer;
}

function leave(outer: number): void {
  lim = outer;
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * A list that grew by push() holds at least 16 slots: a one-event span would keep ~120 bytes of
 * empty slots alive in each of its lists until the batch is exported. An exact-size copy (the
 * grown one dies young, which costs the GC nothing) keeps the surviving heap smaller.
 */
function exact<T>(list: T[]): T[] {
  return list.length !== 0 && list.length < 16 ? list.slice() : list;
}

// ---- common --------------------------------------------------------------------------------

const AnyValueC = ctorOf('opentelemetry.proto.common.v1.AnyValue');
const ArrayValueC = ctorOf('opentelemetry.proto.common.v1.ArrayValue');
const KeyValueListC = ctorOf('opentelemetry.proto.common.v1.KeyValueList');
const KeyValueC = ctorOf('opentelemetry.proto.common.v1.KeyValue');
const ScopeC = ctorOf('opentelemetry.proto.common.v1.InstrumentationScope');
const EntityRefC = ctorOf('opentelemetry.proto.common.v1.EntityRef');
const ResourceC = ctorOf('opentelemetry.proto.resource.v1.Resource');

const ANY_MEMBERS = ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] as const;

/** Proto3 oneof: setting one member clears the others that are set (own properties). */
function clearOthers(m: Msg, keep: string, members: readonly string[]): void {
  for (let i = 0; i < members.length; i++) {
    const k = members[i]!;
    if (k !== keep && hasOwn.call(m, k)) delete m[k];
  }
}

function anyValue(depth: number, into: Msg | null): Msg {
  const outer = enter(depth);
  const m = into ?? new AnyValueC();
  // Which member this decode has set; a merge into an existing value may already hold one.
  let set = into === null ? 0 : -1;
  while (pos < lim) {
    const tag = readTag();
    let f = 0;
    switch (tag) {
      case 0x0a: m.stringValue = string(); f = 1; break;
      case 0x10: m.boolValue = varint() !== 0; f = 2; break;
      case 0x18: m.intValue = int64(); f = 3; break;
      case 0x21: m.doubleValue = double(); f = 4; break;
      case 0x2a: m.arrayValue = arrayValue(depth + 1, (m.arrayValue as Msg | null) ?? null); f = 5; break;
      case 0x32: m.kvlistValue = kvList(depth + 1, (m.kvlistValue as Msg | null) ?? null); f = 6; break;
      case 0x3a: m.bytesValue = bytes(); f = 7; break;
      default: skip(tag, depth);
    }
    if (f !== 0 && f !== set) {
      if (set !== 0) clearOthers(m, ANY_MEMBERS[f - 1]!, ANY_MEMBERS);
      set = f;
    }
  }
  leave(outer);
  return m;
}

function arrayValue(depth: number, into: Msg | null): Msg {
  const outer = enter(depth);
  const m = into ?? new ArrayValueC();
  while (pos < lim) {
    const tag = readTag();
    if (tag === 0x0a) (m.values as Msg[]).push(anyValue(depth + 1, null));
    else skip(tag, depth);
  }
  leave(outer);
  return m;
}

function kvList(depth: number, into: Msg | null): Msg {
  const outer = enter(depth);
  const m = into ?? new KeyValueListC();
  while (pos < lim) {
    const tag = readTag();
    if (tag === 0x0a) (m.values as Msg[]).push(keyValue(depth + 1));
    else skip(tag, depth);
  }
  leave(outer);
  return m;
}

function keyValue(depth: number): Msg {
  const outer = enter(depth);
  const m = new KeyValueC();
  while (pos < lim) {
    const tag = readTag();
    switch (tag) {
      case 0x0a: { const v = string(); if (v.length) m.key = v; else if (hasOwn.call(m, 'key')) delete m.key; break; }
      case 0x12: m.value = anyValue(depth + 1, (m.value as Msg | null) ?? null); break;
      default: skip(tag, depth);
    }
  }
  leave(outer);
  return m;
}

/** Repeated KeyValue fields appear in most messages. */
function pushKeyValue(list: unknown, depth: number): void {
  (list as Msg[]).push(keyValue(depth));
}

// The scalar setters: protobufjs stores a proto3 scalar only when it is not the default (and
// deletes an earlier value when a later occurrence is the default).
function setU32(m: Msg, k: string, v: number): void {
  if (v !== 0) m[k] = v;
  else if (hasOwn.call(m, k)) delete m[k];
}
function setStr(m: Msg, k: string, v: string): void {
  if (v.length) m[k] = v;
  else if (hasOwn.call(m, k)) delete m[k];
}
function setBytes(m: Msg, k: string, v: Buffer): void {
  if (v.length) m[k] = v;
  else if (hasOwn.call(m, k)) delete m[k];
}
function setLong(m: Msg, k: string, v: Long): void {
  if (v.low || v.high) m[k] = v;
  else if (hasOwn.call(m, k)) delete m[k];
}
function setDouble(m: Msg, k: string, v: number): void {
  if (!Object.is(v, 0)) m[k] = v;
  else if (hasOwn.call(m, k)) delete m[k];
}

function scope(depth: number, into: Msg | null): Msg {
  const outer = enter(depth);
  const m = into ?? new ScopeC();
  while (pos < lim) {
    const tag = readTag();
    switch (tag) {
      case 0x0a: setStr(m, 'name', string()); break;
      case 0x12: setStr(m, 'version', string()); break;
      case 0x1a: pushKeyValue(m.attributes, depth + 1); break;
      case 0x20: setU32(m, 'droppedAttributesCount', varint()); break;
      default: skip(tag, depth);
    }
  }
  leave(outer);
  return m;
}

function entityRef(depth: number): Msg {
  const outer = enter(depth);
  const m = new EntityRefC();
  while (pos < lim) {
    const tag = readTag();
    switch (tag) {
      case 0x0a: setStr(m, 'schemaUrl', string()); break;
      case 0x12: setStr(m, 'type', string()); break;
      case 0x1a: (m.idKeys as string[]).push(string()); break;
      case 0x22: (m.descriptionKeys as string[]).push(string()); break;
      default: skip(tag, depth);
    }
  }
  leave(outer);
  return m;
}

function resource(depth: number, into: Msg | null): Msg {
  const outer = enter(depth);
  const m = into ?? new ResourceC();
  while (pos < lim) {
    const tag = readTag();
    switch (tag) {
      case 0x0a: pushKeyValue(m.attributes, depth + 1); break;
      case 0x10: setU32(m, 'droppedAttributesCount', varint()); break;
      case 0x1a: (m.entityRefs as Msg[]).push(entityRef(depth + 1)); break;
      default: skip(tag, depth);
    }
  }
  leave(outer);
  return m;
}

// ---- traces --------------------------------------------------------------------------------

const TraceReqC = ctorOf('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const ResourceSpansC = ctorOf('opentelemetry.proto.trace.v1.ResourceSpans');
const ScopeSpansC = ctorOf('opentelemetry.proto.trace.v1.ScopeSpans');
const SpanC = ctorOf('opentelemetry.proto.trace.v1.Span');
const EventC = ctorOf('opentelemetry.proto.trace.v1.Span.Event');
const LinkC = ctorOf('opentelemetry.proto.trace.v1.Span.Link');
const StatusC = ctorOf('opentelemetry.proto.trace.v1.Status');

function span(depth: number): Msg {
  const outer = enter(depth);
  const m = new SpanC();
  while (pos < lim) {
    const tag = readTag();
    switch (tag) {
      case 0x0a: setBytes(m, 'traceId', bytes()); break;
      case 0x12: setBytes(m, 'spanId', bytes()); break;
      case 0x1a: setStr(m, 'traceState', string()); break;
      case 0x22: setBytes(m, 'parentSpanId', bytes()); break;
      case 0x2a: setStr(m, 'name', string()); break;
      case 0x30: setU32(m, 'kind', varint() | 0); break;
      case 0x39: setLong(m, 'startTimeUnixNano', fixed64(true)); break;
      case 0x41: setLong(m, 'endTimeUnixNano', fixed64(true)); break;
      case 0x4a: pushKeyValue(m.attributes, depth + 1); break;
      case 0x50: setU32(m, 'droppedAttributesCount', varint()); break;
      case 0x5a: (m.events as Msg[]).push(event(depth + 1)); break;
      case 0x60: setU32(m, 'droppedEventsCount', varint()); break;
      case 0x6a: (m.links as Msg[]).push(link(depth + 1)); break;
      case 0x70: setU32(m, 'droppedLinksCount', varint()); break;
      case 0x7a: m.status = status(depth + 1, (m.status as Msg | null) ?? null); break;
      case 0x85: setU32(m, 'flags', fixed32()); break; // field 16, fixed32: a two-byte tag 0x85 0x01
      default: skip(tag, depth);
    }
  }
  leave(outer);
  m.attributes = exact(m.attributes as Msg[]);
  m.events = exact(m.events as Msg[]);
  m.links = exact(m.links as Msg[]);
  return m;
}

function event(depth: number): Msg {
  const outer = enter(depth);
  const m = new EventC();
  while (pos < lim) {
    const tag = readTag();
    switch (tag) {
      case 0x09: setLong(m, 'timeUnixNano', fixed64(true)); break;
      case 0x12: setStr(m, 'name', string()); break;
      case 0x1a: pushKeyValue(m.attributes, depth + 1); break;
      case 0x20: setU32(m, 'droppedAttributesCount', varint()); break;
      default: skip(tag, depth);
    }
  }
  leave(outer);
  m.attributes = exact(m.attributes as Msg[]);
  return m;
}

function link(depth: number): Msg {
  const outer = enter(depth);
  const m = new LinkC();
  while (pos < lim) {
    const tag = readTag();
    switch (tag) {
      case 0x0a: setBytes(m, 'traceId', bytes()); break;
      case 0x12: setBytes(m, 'spanId', bytes()); break;
      case 0x1a: setStr(m, 'traceState', string()); break;
      case 0x22: pushKeyValue(m.attributes, depth + 1); break;
      case 0x28: setU32(m, 'droppedAttributesCount', varint()); break;
      case 0x35: setU32(m, 'flags', fixed32()); break;
      default: skip(tag, depth);
    }
  }
  leave(outer);
  m.attributes = exact(m.attributes as Msg[]);
  return m;
}

function status(depth: number, into: Msg | null): Msg {
  const outer = enter(depth);
  const m = into ?? new StatusC();
  while (pos < lim) {
    const tag = readTag();
    switch (tag) {
      case 0x12: setStr(m, 'message', string()); break;
      case 0x18: setU32(m, 'code', varint() | 0); break;
      default: skip(tag, depth);
    }
  }
  leave(outer);
  return m;
}

// ---- metrics -------------------------------------------------------------------------------

const MetricsReqC = ctorOf('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
const ResourceMetricsC = ctorOf('opentelemetry.proto.metrics.v1.ResourceMetrics');
const ScopeMetricsC = ctorOf('opentelemetry.proto.metrics.v1.ScopeMetrics');
const MetricC = ctorOf('opentelemetry.proto.metrics.v1.Metric');
const GaugeC = ctorOf('opentelemetry.proto.metrics.v1.Gauge');
const SumC = ctorOf('opentelemetry.proto.metrics.v1.Sum');
const HistogramC = ctorOf('opentelemetry.proto.metrics.v1.Histogram');
const ExpHistogramC = ctorOf('opentelemetry.proto.metrics.v1.ExponentialHistogram');
const SummaryC = ctorOf('opentelemetry.proto.metrics.v1.Summary');
const NumberPointC = ctorOf('opentelemetry.proto.metrics.v1.NumberDataPoint');
const HistogramPointC = ctorOf('opentelemetry.proto.metrics.v1.HistogramDataPoint');
const ExpPointC = ctorOf('opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint');
const BucketsC = ctorOf('opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.Buckets');
const SummaryPointC = ctorOf('opentelemetry.proto.metrics.v1.SummaryDataPoint');
const QuantileC = ctorOf('opentelemetry.proto.metrics.v1.SummaryDataPoint.ValueAtQuantile');
const ExemplarC = ctorOf('opentelemetry.proto.metrics.v1.Exemplar');

const METRIC_DATA = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;
const NUMBER_VALUE = ['asDouble', 'asInt'] as const;

function metric(depth: number): Msg {
  const outer = enter(depth);
  const m = new MetricC();
  let set = 0;
  while (pos < lim) {
    const tag = readTag();
    let f = 0;
    switch (tag) {
      case 0x0a: setStr(m, 'name', string()); break;
      case 0x12: setStr(m, 'description', string()); break;
      case 0x1a: setStr(m, 'unit', string()); break;
      case 0x2a: m.gauge = dataPoints(GaugeC, 0, depth + 1, (m.gauge as Msg | null) ?? null); f = 1; break;
      case 0x3a: m.sum = dataPoints(SumC, 0, depth + 1, (m.sum as Msg | null) ?? null); f = 2; break;
      case 0x4a: m.histogram = dataPoints(HistogramC, 1, depth + 1, (m.histogram as Msg | null) ?? null); f = 3; break;
      case 0x52: m.exponentialHistogram = dataPoints(ExpHistogramC, 2, depth + 1, (m.exponentialHistogram as Msg | null) ?? null); f = 4; break;
      case 0x5a: m.summary = dataPoints(SummaryC, 3, depth + 1, (m.summary as Msg | null) ?? null); f = 5; break;
      case 0x62: pushKeyValue(m.metadata, depth + 1); break;
      default: skip(tag, depth);
    }
    if (f !== 0 && f !== set) {
      if (set !== 0) clearOthers(m, METRIC_DATA[f - 1]!, METRIC_DATA);
      set = f;
    }
  }
  leave(outer);
  return m;
}

/**
 * Gauge, Sum, Histogram, ExponentialHistogram and Summary share one layout: data_points = 1,
 * aggregation_temporality = 2 (not in Gauge/Summary), is_monotonic = 3 (Sum only).
 * kind: 0 number points, 1 histogram, 2 exponential histogram, 3 summary points.
 */
function dataPoints(C: new () => Msg, kind: number, depth: number, into: Msg | null): Msg {
  const outer = enter(depth);
  const m = into ?? new C();
  const isSum = C === SumC;
  const hasTemporality = C !== GaugeC && C !== SummaryC;
  while (pos < lim) {
    const tag = readTag();
    if (tag === 0x0a) {
      const list = m.dataPoints as Msg[];
      switch (kind) {
        case 0: list.push(numberPoint(depth + 1)); break;
        case 1: list.push(histogramPoint(depth + 1)); break;
        case 2: list.push(expPoint(depth + 1)); break;
        default: list.push(summaryPoint(depth + 1));
      }
    } else if (tag === 0x10 && hasTemporality) setU32(m, 'aggregationTemporality', varint() | 0);
    else if (tag === 0x18 && isSum) {
      if (varint() !== 0) m.isMonotonic = true;
      else if (hasOwn.call(m, 'isMonotonic')) delete m.isMonotonic;
    } else skip(tag, depth);
  }
  leave(outer);
  return m;
}

function numberPoint(depth: number): Msg {
  const outer = enter(depth);
  const m = new NumberPointC();
  let set = 0;
  while (pos < lim) {
    const tag = readTag();
    let f = 0;
    switch (tag) {
      case 0x3a: pushKeyValue(m.attributes, depth + 1); break;
      case 0x11: setLong(m, 'startTimeUnixNano', fixed64(true)); break;
      case 0x19: setLong(m, 'timeUnixNano', fixed64(true)); break;
      case 0x21: m.asDouble = double(); f = 1; break;
      case 0x31: m.asInt = fixed64(false); f = 2; break;
      case 0x2a: (m.exemplars as Msg[]).push(exemplar(depth + 1)); break;
      case 0x40: setU32(m, 'flags', varint()); break;
      default: skip(tag, depth);
    }
    if (f !== 0 && f !== set) {
      if (set !== 0) clearOthers(m, NUMBER_VALUE[f - 1]!, NUMBER_VALUE);
      set = f;
    }
  }
  leave(outer);
  return m;
}

function exemplar(depth: number): Msg {
  const outer = enter(depth);
  const m = new ExemplarC();
  let set = 0;
  while (pos < lim) {
    const tag = readTag();
    let f = 0;
    switch (tag) {
      case 0x3a: pushKeyValue(m.filteredAttributes, depth + 1); break;
      case 0x11: setLong(m, 'timeUnixNano', fixed64(true)); break;
      case 0x19: m.asDouble = double(); f = 1; break;
      case 0x31: m.asInt = fixed64(false); f = 2; break;
      case 0x22: setBytes(m, 'spanId', bytes()); break;
      case 0x2a: setBytes(m, 'traceId', bytes()); break;
      default: skip(tag, depth);
    }
    if (f !== 0 && f !== set) {
      if (set !== 0) clearOthers(m, NUMBER_VALUE[f - 1]!, NUMBER_VALUE);
      set = f;
    }
  }
  leave(outer);
  return m;
}

/** Packed (wire type 2) or one unpacked fixed64 (wire type 1). */
function fixed64s(list: Long[], packed: boolean): void {
  if (!packed) {
    list.push(fixed64(true));
    return;
  }
  const end = delimited();
  if ((end - pos) % 8 !== 0) fail('packed fixed64 length is not a multiple of 8');
  while (pos < end) list.push(fixed64(true));
}

function doubles(list: number[], packed: boolean): void {
  if (!packed) {
    list.push(double());
    return;
  }
  const end = delimited();
  if ((end - pos) % 8 !== 0) fail('packed double length is not a multiple of 8');
  while (pos < end) list.push(double());
}

function uint64s(list: Long[], packed: boolean): void {
  if (!packed) {
    list.push(uint64());
    return;
  }
  const end = delimited();
  const outer = lim;
  lim = end;
  while (pos < end) list.push(uint64());
  lim = outer;
}

function histogramPoint(depth: number): Msg {
  const outer = enter(depth);
  const m = new HistogramPointC();
  while (pos < lim) {
    const tag = readTag();
    switch (tag) {
      case 0x4a: pushKeyValue(m.attributes, depth + 1); break;
      case 0x11: setLong(m, 'startTimeUnixNano', fixed64(true)); break;
      case 0x19: setLong(m, 'timeUnixNano', fixed64(true)); break;
      case 0x21: setLong(m, 'count', fixed64(true)); break;
      case 0x29: m.sum = double(); break;
      case 0x32: fixed64s(m.bucketCounts as Long[], true); break;
      case 0x31: fixed64s(m.bucketCounts as Long[], false); break;
      case 0x3a: doubles(m.explicitBounds as number[], true); break;
      case 0x39: doubles(m.explicitBounds as number[], false); break;
      case 0x42: (m.exemplars as Msg[]).push(exemplar(depth + 1)); break;
      case 0x50: setU32(m, 'flags', varint()); break;
      case 0x59: m.min = double(); break;
      case 0x61: m.max = double(); break;
      default: skip(tag, depth);
    }
  }
  leave(outer);
  return m;
}

function buckets(depth: number, into: Msg | null): Msg {
  const outer = enter(depth);
  const m = into ?? new BucketsC();
  while (pos < lim) {
    const tag = readTag();
    switch (tag) {
      case 0x08: setU32(m, 'offset', sint32()); break;
      case 0x12: uint64s(m.bucketCounts as Long[], true); break;
      case 0x10: uint64s(m.bucketCounts as Long[], false); break;
      default: skip(tag, depth);
    }
  }
  leave(outer);
  return m;
}

function expPoint(depth: number): Msg {
  const outer = enter(depth);
  const m = new ExpPointC();
  while (pos < lim) {
    const tag = readTag();
    switch (tag) {
      case 0x0a: pushKeyValue(m.attributes, depth + 1); break;
      case 0x11: setLong(m, 'startTimeUnixNano', fixed64(true)); break;
      case 0x19: setLong(m, 'timeUnixNano', fixed64(true)); break;
      case 0x21: setLong(m, 'count', fixed64(true)); break;
      case 0x29: m.sum = double(); break;
      case 0x30: setU32(m, 'scale', sint32()); break;
      case 0x39: setLong(m, 'zeroCount', fixed64(true)); break;
      case 0x42: m.positive = buckets(depth + 1, (m.positive as Msg | null) ?? null); break;
      case 0x4a: m.negative = buckets(depth + 1, (m.negative as Msg | null) ?? null); break;
      case 0x50: setU32(m, 'flags', varint()); break;
      case 0x5a: (m.exemplars as Msg[]).push(exemplar(depth + 1)); break;
      case 0x61: m.min = double(); break;
      case 0x69: m.max = double(); break;
      case 0x71: setDouble(m, 'zeroThreshold', double()); break;
      default: skip(tag, depth);
    }
  }
  leave(outer);
  return m;
}

function summaryPoint(depth: number): Msg {
  const outer = enter(depth);
  const m = new SummaryPointC();
  while (pos < lim) {
    const tag = readTag();
    switch (tag) {
      case 0x3a: pushKeyValue(m.attributes, depth + 1); break;
      case 0x11: setLong(m, 'startTimeUnixNano', fixed64(true)); break;
      case 0x19: setLong(m, 'timeUnixNano', fixed64(true)); break;
      case 0x21: setLong(m, 'count', fixed64(true)); break;
      case 0x29: setDouble(m, 'sum', double()); break;
      case 0x32: (m.quantileValues as Msg[]).push(quantile(depth + 1)); break;
      case 0x40: setU32(m, 'flags', varint()); break;
      default: skip(tag, depth);
    }
  }
  leave(outer);
  return m;
}

function quantile(depth: number): Msg {
  const outer = enter(depth);
  const m = new QuantileC();
  while (pos < lim) {
    const tag = readTag();
    switch (tag) {
      case 0x09: setDouble(m, 'quantile', double()); break;
      case 0x11: setDouble(m, 'value', double()); break;
      default: skip(tag, depth);
    }
  }
  leave(outer);
  return m;
}

// ---- logs ----------------------------------------------------------------------------------

const LogsReqC = ctorOf('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
const ResourceLogsC = ctorOf('opentelemetry.proto.logs.v1.ResourceLogs');
const ScopeLogsC = ctorOf('opentelemetry.proto.logs.v1.ScopeLogs');
const LogRecordC = ctorOf('opentelemetry.proto.logs.v1.LogRecord');

function logRecord(depth: number): Msg {
  const outer = enter(depth);
  const m = new LogRecordC();
  while (pos < lim) {
    const tag = readTag();
    switch (tag) {
      case 0x09: setLong(m, 'timeUnixNano', fixed64(true)); break;
      case 0x59: setLong(m, 'observedTimeUnixNano', fixed64(true)); break;
      case 0x10: setU32(m, 'severityNumber', varint() | 0); break;
      case 0x1a: setStr(m, 'severityText', string()); break;
      case 0x2a: m.body = anyValue(depth + 1, (m.body as Msg | null) ?? null); break;
      case 0x32: pushKeyValue(m.attributes, depth + 1); break;
      case 0x38: setU32(m, 'droppedAttributesCount', varint()); break;
      case 0x45: setU32(m, 'flags', fixed32()); break;
      case 0x4a: setBytes(m, 'traceId', bytes()); break;
      case 0x52: setBytes(m, 'spanId', bytes()); break;
      case 0x62: setStr(m, 'eventName', string()); break;
      default: skip(tag, depth);
    }
  }
  leave(outer);
  m.attributes = exact(m.attributes as Msg[]);
  return m;
}

// ---- requests ------------------------------------------------------------------------------

type Item = (depth: number) => Msg;

/**
 * ResourceSpans / ResourceMetrics / ResourceLogs and their Scope* groups share one layout:
 * resource or scope = 1, the repeated children = 2, schema_url = 3. Called once per group, not
 * per item, so one generic pair costs nothing on the hot path.
 */
function resourceGroup(depth: number, ctor: MsgCtor, groups: string, group: (depth: number) => Msg): Msg {
  const outer = enter(depth);
  const m = new ctor();
  const list = m[groups] as Msg[];
  while (pos < lim) {
    const tag = readTag();
    switch (tag) {
      case 0x0a: m.resource = resource(depth + 1, (m.resource as Msg | null) ?? null); break;
      case 0x12: list.push(group(depth + 1)); break;
      case 0x1a: setStr(m, 'schemaUrl', string()); break;
      default: skip(tag, depth);
    }
  }
  leave(outer);
  return m;
}

function scopeGroup(depth: number, ctor: MsgCtor, items: string, item: (depth: number) => Msg): Msg {
  const outer = enter(depth);
  const m = new ctor();
  const list = m[items] as Msg[];
  while (pos < lim) {
    const tag = readTag();
    switch (tag) {
      case 0x0a: m.scope = scope(depth + 1, (m.scope as Msg | null) ?? null); break;
      case 0x12: list.push(item(depth + 1)); break;
      case 0x1a: setStr(m, 'schemaUrl', string()); break;
      default: skip(tag, depth);
    }
  }
  leave(outer);
  return m;
}

const resourceSpans = (depth: number): Msg => resourceGroup(depth, ResourceSpansC, 'scopeSpans', scopeSpans);
const scopeSpans = (depth: number): Msg => scopeGroup(depth, ScopeSpansC, 'spans', span);
const resourceMetrics = (depth: number): Msg => resourceGroup(depth, ResourceMetricsC, 'scopeMetrics', scopeMetrics);
const scopeMetrics = (depth: number): Msg => scopeGroup(depth, ScopeMetricsC, 'metrics', metric);
const resourceLogs = (depth: number): Msg => resourceGroup(depth, ResourceLogsC, 'scopeLogs', scopeLogs);
const scopeLogs = (depth: number): Msg => scopeGroup(depth, ScopeLogsC, 'logRecords', logRecord);

function request(bytesIn: Uint8Array, C: new () => Msg, listName: string, item: Item): Msg {
  buf = (Buffer.isBuffer(bytesIn) ? bytesIn : Buffer.from(bytesIn.buffer, bytesIn.byteOffset, bytesIn.byteLength)) as Utf8Buffer;
  pos = 0;
  lim = buf.length;
  try {
    const m = new C();
    const list = m[listName] as Msg[];
    while (pos < lim) {
      const tag = readTag();
      if (tag === 0x0a) list.push(item(1));
      else skip(tag, 0);
    }
    return m;
  } finally {
    // Do not keep the last request alive through the reader state.
    buf = EMPTY;
  }
}

const EMPTY = Buffer.alloc(0) as Utf8Buffer;

/** Throws WireError (with the byte offset) on malformed input. */
export function decodeTracesFast(bytesIn: Uint8Array): Msg {
  return request(bytesIn, TraceReqC, 'resourceSpans', resourceSpans);
}

export function decodeMetricsFast(bytesIn: Uint8Array): Msg {
  return request(bytesIn, MetricsReqC, 'resourceMetrics', resourceMetrics);
}

export function decodeLogsFast(bytesIn: Uint8Array): Msg {
  return request(bytesIn, LogsReqC, 'resourceLogs', resourceLogs);
}
