// A hand-written protobuf encoder for the OTLP export requests, written from the field numbers in
// schema.ts. One pass over the pdata into one reusable scratch Buffer: a nested message's length
// prefix is reserved with a guess of its width (1 byte for attributes, 2 for spans, 3 for the
// big containers) and patched when the message ends, moving the body only when the guess was
// wrong; strings are written optimistically as ASCII. No object per field; the result is one copy
// of the scratch bytes.
//
// Which fields are written follows protobufjs' encoder, so the bytes are identical to the
// reference encodeRequest (test/unit/otlp-fast.test.ts): fields in field-number order; a proto3
// scalar only when non-null and non-default; oneof members and proto3 `optional` fields when set
// (own and non-null, even if zero); repeated fields when non-empty (scalars packed); numbers,
// decimal strings and Longs accepted for 64-bit fields; nesting deeper than 100 refused. Known
// differences, both deliberate: strings with unpaired UTF-16 surrogates are written as U+FFFD
// (valid UTF-8, Node's rule) where protobufjs writes short ones as raw surrogate bytes that no
// strict decoder (its own included) accepts; and a non-default scalar or message field inherited
// through the prototype chain (an Object.create(span) copy) is written, where protobufjs skips
// every field that is not an own property.
import Long from 'long';
import { MAX_DEPTH, Msg, ctorOf } from './fast-wire';

interface WriteBuffer extends Buffer {
  utf8Write(s: string, offset: number, length: number): number;
  latin1Write(s: string, offset: number, length: number): number;
}

const hasOwn = Object.prototype.hasOwnProperty;

// ---- output ----------------------------------------------------------------------------------

/** Scratch output, reused across calls; dropped after an unusually large request. */
let out = Buffer.allocUnsafeSlow(1 << 20) as WriteBuffer;
let wp = 0;
/** Nesting depth of the message being written (protobufjs' limit applies). */
let depth = 0;
const KEEP_SCRATCH = 16 << 20;
/**
 * Free bytes guaranteed after every variable-size write (message, string, bytes, list) and at the
 * start of a message: enough for the fixed-size fields any message writes between two of them.
 */
const HEADROOM = 256;

function ensure(n: number): void {
  if (wp + n > out.length) grow(n);
}

function grow(n: number): void {
  let size = out.length * 2;
  while (wp + n > size) size *= 2;
  const bigger = Buffer.allocUnsafeSlow(size) as WriteBuffer;
  out.copy(bigger, 0, 0, wp);
  out = bigger;
}

// The last 64-bit value converted (protobufjs LongBits rules).
let blo = 0;
let bhi = 0;

function bits(v: unknown): void {
  if (typeof v === 'number') {
    if (v === 0) { blo = bhi = 0; return; }
    const neg = v < 0;
    if (neg) v = -v;
    let l = (v as number) >>> 0;
    let h = (((v as number) - l) / 4294967296) >>> 0;
    if (neg) {
      h = ~h >>> 0;
      l = ~l >>> 0;
      if (++l > 4294967295) {
        l = 0;
        if (++h > 4294967295) h = 0;
      }
    }
    blo = l;
    bhi = h;
    return;
  }
  if (typeof v === 'string') {
    const l = Long.fromString(v);
    blo = l.low >>> 0;
    bhi = l.high >>> 0;
    return;
  }
  const l = v as Long;
  blo = l.low >>> 0;
  bhi = l.high >>> 0;
}

function asBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v, 'base64');
  return Uint8Array.from(v as ArrayLike<number>);
}

// Field presence. protobufjs writes a proto3 scalar when it is an own, non-null, non-default
// property; a decoded object's unset fields are defaults on its prototype, so checking for the
// default is enough and saves a hasOwnProperty per field. (An inherited non-default value, from
// an object made with Object.create(span), is written here and ignored by protobufjs.)
function isStr(v: unknown): boolean {
  return v != null && v !== '';
}
function isNum(v: unknown): boolean {
  return v != null && v !== 0;
}
function isBytes(v: unknown): boolean {
  return v != null && (v as { length: number }).length > 0;
}
function isLong(v: unknown): boolean {
  return v != null && (typeof v === 'object' ? ((v as Long).low | (v as Long).high) !== 0 : v !== 0);
}
function isDouble(v: unknown): boolean {
  return v != null && !Object.is(v, 0);
}
function isBool(v: unknown): boolean {
  return v != null && v !== false;
}
/**
 * A oneof member or proto3 optional field is written whenever it is set, default or not, so an
 * unset member (its prototype default `d`) must be told from one set to the same value: only
 * then is hasOwnProperty needed.
 */
function member(m: Msg, k: string, v: unknown, d: unknown): boolean {
  return v != null && (v !== d || hasOwn.call(m, k));
}
function nonEmpty(v: unknown): boolean {
  return v != null && (v as unknown[]).length > 0;
}

function protoOf(fullName: string): Msg {
  return ctorOf(fullName).prototype as Msg;
}
const ANY_P = protoOf('opentelemetry.proto.common.v1.AnyValue');
const D_STRING = ANY_P.stringValue;
const D_BOOL = ANY_P.boolValue;
const D_INT = ANY_P.intValue;
const D_DOUBLE = ANY_P.doubleValue;
const D_BYTES = ANY_P.bytesValue;
const NUM_P = protoOf('opentelemetry.proto.metrics.v1.NumberDataPoint');
const EX_P = protoOf('opentelemetry.proto.metrics.v1.Exemplar');
const NUM_AS_DOUBLE = NUM_P.asDouble;
const NUM_AS_INT = NUM_P.asInt;
const EX_AS_DOUBLE = EX_P.asDouble;
const EX_AS_INT = EX_P.asInt;

type Writer = (m: Msg) => void;

// ---- pass 2: writing -----------------------------------------------------------------------

const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);

// Hot writers copy the module-level cursor into locals: context-slot stores in a loop cost.
function wVarint(v: number): void {
  const o = out;
  let p = wp;
  while (v > 127) {
    o[p++] = (v & 127) | 128;
    v >>>= 7;
  }
  o[p++] = v;
  wp = p;
}

function wVarint64(): void {
  let l = blo;
  let h = bhi;
  while (h) {
    out[wp++] = (l & 127) | 128;
    l = ((l >>> 7) | (h << 25)) >>> 0;
    h >>>= 7;
  }
  while (l > 127) {
    out[wp++] = (l & 127) | 128;
    l >>>= 7;
  }
  out[wp++] = l;
}

function wInt32(v: number): void {
  if (v < 0) {
    bits(v);
    wVarint64();
  } else wVarint(v >>> 0);
}

function wFixed32(v: number): void {
  const o = out;
  const p = wp;
  o[p] = v & 255;
  o[p + 1] = (v >>> 8) & 255;
  o[p + 2] = (v >>> 16) & 255;
  o[p + 3] = v >>> 24;
  wp = p + 4;
}

function wFixed64(v: unknown): void {
  bits(v);
  wFixed32(blo);
  wFixed32(bhi);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function wDouble(v: unknown): void {
  if (!LITTLE_ENDIAN) {
    wp = out.writeDoubleLE(v as number, wp);
    return;
  }
  f64[0] = v as number;
  out.set(f64b, wp);
  wp += 8;
}

function wStr(v: unknown): void {
  const s = typeof v === 'string' ? v : '';
  const n = s.length;
  if (n < 43) {
    // At most 42 UTF-16 units: at most 126 UTF-8 bytes, so the length fits the one byte reserved.
    ensure(n * 3 + 1 + HEADROOM);
    const o = out;
    const at = wp;
    let p = at + 1;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      o[p++] = c;
    }
    if (i < n) p += o.utf8Write(s.slice(i), p, n * 3);
    o[at] = p - at - 1;
    wp = p;
    return;
  }
  const len = Buffer.byteLength(s, 'utf8');
  ensure(len + 5 + HEADROOM);
  wVarint(len);
  wp += len === n ? out.latin1Write(s, wp, len) : out.utf8Write(s, wp, len);
}

function wBytes(v: unknown): void {
  const b = asBytes(v);
  const n = b.length;
  ensure(n + 5 + HEADROOM);
  wVarint(n);
  const o = out;
  const p = wp;
  // Ids are 8 or 16 bytes: a loop beats set() (a native call) at that size.
  if (n <= 32) for (let i = 0; i < n; i++) o[p + i] = b[i]!;
  else o.set(b, p);
  wp = p + n;
}

/** A nested message after its tag: length prefix reserved (`guess` bytes), body, prefix patched. */
function wMsg(child: Msg, writer: Writer, guess = 1): void {
  if (++depth > MAX_DEPTH) throw new Error('max depth exceeded');
  ensure(guess + HEADROOM);
  const at = wp;
  wp += guess;
  writer(child);
  endMsg(at, guess);
  depth--;
}

function endMsg(at: number, guess: number): void {
  const len = wp - at - guess;
  const need = varintLen(len);
  if (need !== guess) {
    ensure(need + HEADROOM);
    out.copyWithin(at + need, at + guess, wp);
    wp += need - guess;
  } else ensure(HEADROOM);
  // The prefix, exactly `need` bytes.
  const o = out;
  let v = len;
  let p = at;
  while (v > 127) {
    o[p++] = (v & 127) | 128;
    v >>>= 7;
  }
  o[p] = v;
}

function varintLen(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

function wList(tag: number, list: unknown, writer: Writer, guess = 1): void {
  if (!nonEmpty(list)) return;
  const l = list as Msg[];
  for (let i = 0; i < l.length; i++) {
    out[wp++] = tag;
    wMsg(l[i]!, writer, guess);
  }
}

// ---- common --------------------------------------------------------------------------------

function wAny(m: Msg): void {
  let v: unknown;
  if (member(m, 'stringValue', (v = m.stringValue), D_STRING)) { out[wp++] = 0x0a; wStr(v); }
  if (member(m, 'boolValue', (v = m.boolValue), D_BOOL)) { out[wp++] = 0x10; out[wp++] = v ? 1 : 0; }
  if (member(m, 'intValue', (v = m.intValue), D_INT)) { out[wp++] = 0x18; bits(v); wVarint64(); }
  if (member(m, 'doubleValue', (v = m.doubleValue), D_DOUBLE)) { out[wp++] = 0x21; wDouble(v); }
  if ((v = m.arrayValue) != null) { out[wp++] = 0x2a; wMsg(v as Msg, wValues); }
  if ((v = m.kvlistValue) != null) { out[wp++] = 0x32; wMsg(v as Msg, wKvList); }
  if (member(m, 'bytesValue', (v = m.bytesValue), D_BYTES)) { out[wp++] = 0x3a; wBytes(v); }
}

/** Where preEncodeKeyValue keeps a KeyValue's bytes (length prefix and body). */
const ENCODED = Symbol('sonde.otlp.encodedKeyValue');
type PreEncoded = { [ENCODED]?: Uint8Array };

/**
 * Freezes a KeyValue with a scalar value (and its AnyValue) and keeps its encoded bytes on it,
 * so that every request carrying it copies them instead of encoding it again: for attributes a
 * producer shares between many items (a receiver's constants, a connection's addresses). The
 * bytes are what wKeyValue writes, so requests stay byte-identical. Values that nest (arrays,
 * kvlists) are only frozen. Returns the same object.
 */
export function preEncodeKeyValue<T extends object>(kv: T): T {
  const m = kv as unknown as Msg;
  const value = m.value as Msg | null | undefined;
  if (value != null) Object.freeze(value);
  if (value == null || (value.arrayValue == null && value.kvlistValue == null)) {
    const savedWp = wp;
    const savedDepth = depth;
    try {
      depth = 1;
      ensure(1 + HEADROOM);
      const at = wp++;
      wKeyValue(m);
      endMsg(at, 1);
      Object.defineProperty(kv, ENCODED, { value: Uint8Array.prototype.slice.call(out, at, wp), enumerable: false });
    } finally {
      wp = savedWp;
      depth = savedDepth;
    }
  }
  return Object.freeze(kv);
}

/** Where preEncodeKeyValueList keeps a list's bytes: the field tag they were written under
 * and the bytes (every element with its tag), filled at the list's first encoding. */
const LIST_ENCODED = Symbol('sonde.otlp.encodedKeyValueList');
interface ListBytes { tag: number; bytes: Uint8Array | undefined }
type PreEncodedList = { [LIST_ENCODED]?: ListBytes };

/**
 * Freezes a list of attributes that a producer hands to many items unchanged (the same
 * attributes on every span of a connection), its elements as preEncodeKeyValue does, and lets
 * the encoder keep the list's bytes at its first encoding: every later request copies them in
 * one piece. Requests stay byte-identical. Returns the same array.
 */
export function preEncodeKeyValueList<T extends object>(list: T[]): readonly T[] {
  for (const kv of list) if (!Object.isFrozen(kv)) preEncodeKeyValue(kv);
  const holder: ListBytes = { tag: -1, bytes: undefined };
  Object.defineProperty(list, LIST_ENCODED, { value: holder, enumerable: false });
  return Object.freeze(list);
}

// Attributes are most of the data: their loop calls wKeyValue directly (the generic wList's
// writer argument makes its call megamorphic), so V8 can inline.
function wKvs(tag: number, list: unknown): void {
  if (!nonEmpty(list)) return;
  const l = list as Msg[];
  const shared = (list as PreEncodedList)[LIST_ENCODED];
  if (shared !== undefined) {
    if (shared.tag === tag && shared.bytes !== undefined) {
      ensure(shared.bytes.length + HEADROOM);
      out.set(shared.bytes, wp);
      wp += shared.bytes.length;
      return;
    }
    const start = wp;
    wKvElements(tag, l);
    shared.tag = tag;
    shared.bytes = Uint8Array.prototype.slice.call(out, start, wp);
    return;
  }
  wKvElements(tag, l);
}

function wKvElements(tag: number, l: Msg[]): void {
  for (let i = 0; i < l.length; i++) {
    out[wp++] = tag;
    const pre = (l[i] as PreEncoded)[ENCODED];
    if (pre !== undefined) {
      ensure(pre.length + HEADROOM);
      out.set(pre, wp);
      wp += pre.length;
      continue;
    }
    if (++depth > MAX_DEPTH) throw new Error('max depth exceeded');
    ensure(1 + HEADROOM);
    const at = wp++;
    wKeyValue(l[i]!);
    endMsg(at, 1);
    depth--;
  }
}

function wAnyMsg(v: Msg): void {
  if (++depth > MAX_DEPTH) throw new Error('max depth exceeded');
  ensure(1 + HEADROOM);
  const at = wp++;
  wAny(v);
  endMsg(at, 1);
  depth--;
}

function wValues(m: Msg): void {
  wList(0x0a, m.values, wAny);
}

function wKvList(m: Msg): void {
  wKvs(0x0a, m.values);
}

function wKeyValue(m: Msg): void {
  let v: unknown;
  if (isStr((v = m.key))) { out[wp++] = 0x0a; wStr(v); }
  if ((v = m.value) != null) { out[wp++] = 0x12; wAnyMsg(v as Msg); }
}

function wScope(m: Msg): void {
  let v: unknown;
  if (isStr((v = m.name))) { out[wp++] = 0x0a; wStr(v); }
  if (isStr((v = m.version))) { out[wp++] = 0x12; wStr(v); }
  wKvs(0x1a, m.attributes);
  if (isNum((v = m.droppedAttributesCount))) { out[wp++] = 0x20; wVarint((v as number) >>> 0); }
}

function wStrings(tag: number, list: unknown): void {
  if (!nonEmpty(list)) return;
  const l = list as unknown[];
  for (let i = 0; i < l.length; i++) {
    out[wp++] = tag;
    wStr(l[i]);
  }
}

function wEntityRef(m: Msg): void {
  let v: unknown;
  if (isStr((v = m.schemaUrl))) { out[wp++] = 0x0a; wStr(v); }
  if (isStr((v = m.type))) { out[wp++] = 0x12; wStr(v); }
  wStrings(0x1a, m.idKeys);
  wStrings(0x22, m.descriptionKeys);
}

function wResource(m: Msg): void {
  wKvs(0x0a, m.attributes);
  let v: unknown;
  if (isNum((v = m.droppedAttributesCount))) { out[wp++] = 0x10; wVarint((v as number) >>> 0); }
  wList(0x1a, m.entityRefs, wEntityRef);
}

function wResourceEntry(m: Msg, scopes: unknown, writer: Writer): void {
  let v: unknown;
  if ((v = m.resource) != null) { out[wp++] = 0x0a; wMsg(v as Msg, wResource); }
  wList(0x12, scopes, writer, 3);
  if (isStr((v = m.schemaUrl))) { out[wp++] = 0x1a; wStr(v); }
}

function wScopeEntry(m: Msg, items: unknown, writer: Writer): void {
  let v: unknown;
  if ((v = m.scope) != null) { out[wp++] = 0x0a; wMsg(v as Msg, wScope); }
  wList(0x12, items, writer, 3);
  if (isStr((v = m.schemaUrl))) { out[wp++] = 0x1a; wStr(v); }
}

// ---- traces --------------------------------------------------------------------------------

const wResourceSpans: Writer = (m) => wResourceEntry(m, m.scopeSpans, wScopeSpans);
function wScopeSpans(m: Msg): void {
  let v: unknown;
  if ((v = m.scope) != null) { out[wp++] = 0x0a; wMsg(v as Msg, wScope); }
  const l = m.spans as Msg[] | null | undefined;
  if (nonEmpty(l)) {
    for (let i = 0; i < l!.length; i++) {
      out[wp++] = 0x12;
      wMsg(l![i]!, wSpan, 2);
    }
  }
  if (isStr((v = m.schemaUrl))) { out[wp++] = 0x1a; wStr(v); }
}

function wSpan(m: Msg): void {
  let v: unknown;
  if (isBytes((v = m.traceId))) { out[wp++] = 0x0a; wBytes(v); }
  if (isBytes((v = m.spanId))) { out[wp++] = 0x12; wBytes(v); }
  if (isStr((v = m.traceState))) { out[wp++] = 0x1a; wStr(v); }
  if (isBytes((v = m.parentSpanId))) { out[wp++] = 0x22; wBytes(v); }
  if (isStr((v = m.name))) { out[wp++] = 0x2a; wStr(v); }
  if (isNum((v = m.kind))) { out[wp++] = 0x30; wInt32(v as number); }
  if (isLong((v = m.startTimeUnixNano))) { out[wp++] = 0x39; wFixed64(v); }
  if (isLong((v = m.endTimeUnixNano))) { out[wp++] = 0x41; wFixed64(v); }
  wKvs(0x4a, m.attributes);
  if (isNum((v = m.droppedAttributesCount))) { out[wp++] = 0x50; wVarint((v as number) >>> 0); }
  wList(0x5a, m.events, wEvent);
  if (isNum((v = m.droppedEventsCount))) { out[wp++] = 0x60; wVarint((v as number) >>> 0); }
  wList(0x6a, m.links, wLink);
  if (isNum((v = m.droppedLinksCount))) { out[wp++] = 0x70; wVarint((v as number) >>> 0); }
  if ((v = m.status) != null) { out[wp++] = 0x7a; wMsg(v as Msg, wStatus); }
  if (isNum((v = m.flags))) { out[wp++] = 0x85; out[wp++] = 0x01; wFixed32(v as number); }
}

function wEvent(m: Msg): void {
  let v: unknown;
  if (isLong((v = m.timeUnixNano))) { out[wp++] = 0x09; wFixed64(v); }
  if (isStr((v = m.name))) { out[wp++] = 0x12; wStr(v); }
  wKvs(0x1a, m.attributes);
  if (isNum((v = m.droppedAttributesCount))) { out[wp++] = 0x20; wVarint((v as number) >>> 0); }
}

function wLink(m: Msg): void {
  let v: unknown;
  if (isBytes((v = m.traceId))) { out[wp++] = 0x0a; wBytes(v); }
  if (isBytes((v = m.spanId))) { out[wp++] = 0x12; wBytes(v); }
  if (isStr((v = m.traceState))) { out[wp++] = 0x1a; wStr(v); }
  wKvs(0x22, m.attributes);
  if (isNum((v = m.droppedAttributesCount))) { out[wp++] = 0x28; wVarint((v as number) >>> 0); }
  if (isNum((v = m.flags))) { out[wp++] = 0x35; wFixed32(v as number); }
}

function wStatus(m: Msg): void {
  let v: unknown;
  if (isStr((v = m.message))) { out[wp++] = 0x12; wStr(v); }
  if (isNum((v = m.code))) { out[wp++] = 0x18; wInt32(v as number); }
}

// ---- metrics -------------------------------------------------------------------------------

const wResourceMetrics: Writer = (m) => wResourceEntry(m, m.scopeMetrics, wScopeMetrics);
const wScopeMetrics: Writer = (m) => wScopeEntry(m, m.metrics, wMetric);

function wMetric(m: Msg): void {
  let v: unknown;
  if (isStr((v = m.name))) { out[wp++] = 0x0a; wStr(v); }
  if (isStr((v = m.description))) { out[wp++] = 0x12; wStr(v); }
  if (isStr((v = m.unit))) { out[wp++] = 0x1a; wStr(v); }
  if ((v = m.gauge) != null) { out[wp++] = 0x2a; wMsg(v as Msg, wGauge); }
  if ((v = m.sum) != null) { out[wp++] = 0x3a; wMsg(v as Msg, wSum); }
  if ((v = m.histogram) != null) { out[wp++] = 0x4a; wMsg(v as Msg, wHistogram); }
  if ((v = m.exponentialHistogram) != null) { out[wp++] = 0x52; wMsg(v as Msg, wExpHistogram); }
  if ((v = m.summary) != null) { out[wp++] = 0x5a; wMsg(v as Msg, wSummary); }
  wKvs(0x62, m.metadata);
}

function wTemporality(m: Msg): void {
  const v = m.aggregationTemporality;
  if (isNum(v)) { out[wp++] = 0x10; wInt32(v as number); }
}

function wGauge(m: Msg): void {
  wList(0x0a, m.dataPoints, wNumberPoint);
}
function wSum(m: Msg): void {
  wList(0x0a, m.dataPoints, wNumberPoint);
  wTemporality(m);
  if (isBool(m.isMonotonic)) { out[wp++] = 0x18; out[wp++] = m.isMonotonic ? 1 : 0; }
}
function wHistogram(m: Msg): void {
  wList(0x0a, m.dataPoints, wHistogramPoint);
  wTemporality(m);
}
function wExpHistogram(m: Msg): void {
  wList(0x0a, m.dataPoints, wExpPoint);
  wTemporality(m);
}
function wSummary(m: Msg): void {
  wList(0x0a, m.dataPoints, wSummaryPoint);
}

function wTimes(m: Msg): void {
  let v: unknown;
  if (isLong((v = m.startTimeUnixNano))) { out[wp++] = 0x11; wFixed64(v); }
  if (isLong((v = m.timeUnixNano))) { out[wp++] = 0x19; wFixed64(v); }
}

function wNumberPoint(m: Msg): void {
  let v: unknown;
  wTimes(m);
  if (member(m, 'asDouble', (v = m.asDouble), NUM_AS_DOUBLE)) { out[wp++] = 0x21; wDouble(v); }
  wList(0x2a, m.exemplars, wExemplar);
  if (member(m, 'asInt', (v = m.asInt), NUM_AS_INT)) { out[wp++] = 0x31; wFixed64(v); }
  wKvs(0x3a, m.attributes);
  if (isNum((v = m.flags))) { out[wp++] = 0x40; wVarint((v as number) >>> 0); }
}

function wExemplar(m: Msg): void {
  let v: unknown;
  if (isLong((v = m.timeUnixNano))) { out[wp++] = 0x11; wFixed64(v); }
  if (member(m, 'asDouble', (v = m.asDouble), EX_AS_DOUBLE)) { out[wp++] = 0x19; wDouble(v); }
  if (isBytes((v = m.spanId))) { out[wp++] = 0x22; wBytes(v); }
  if (isBytes((v = m.traceId))) { out[wp++] = 0x2a; wBytes(v); }
  if (member(m, 'asInt', (v = m.asInt), EX_AS_INT)) { out[wp++] = 0x31; wFixed64(v); }
  wKvs(0x3a, m.filteredAttributes);
}

function wPackedFixed64(tag: number, list: unknown): void {
  if (!nonEmpty(list)) return;
  const l = list as unknown[];
  ensure(l.length * 8 + 6 + HEADROOM);
  out[wp++] = tag;
  wVarint(l.length * 8);
  for (let i = 0; i < l.length; i++) wFixed64(l[i]);
}
function wPackedDouble(tag: number, list: unknown): void {
  if (!nonEmpty(list)) return;
  const l = list as unknown[];
  ensure(l.length * 8 + 6 + HEADROOM);
  out[wp++] = tag;
  wVarint(l.length * 8);
  for (let i = 0; i < l.length; i++) wDouble(l[i]);
}

function wHistogramPoint(m: Msg): void {
  let v: unknown;
  wTimes(m);
  if (isLong((v = m.count))) { out[wp++] = 0x21; wFixed64(v); }
  if ((v = m.sum) != null) { out[wp++] = 0x29; wDouble(v); }
  wPackedFixed64(0x32, m.bucketCounts);
  wPackedDouble(0x3a, m.explicitBounds);
  wList(0x42, m.exemplars, wExemplar);
  wKvs(0x4a, m.attributes);
  if (isNum((v = m.flags))) { out[wp++] = 0x50; wVarint((v as number) >>> 0); }
  if ((v = m.min) != null) { out[wp++] = 0x59; wDouble(v); }
  if ((v = m.max) != null) { out[wp++] = 0x61; wDouble(v); }
}

function wBuckets(m: Msg): void {
  const v = m.offset;
  if (isNum(v)) { out[wp++] = 0x08; wVarint(zigzag(v as number)); }
  const l = m.bucketCounts;
  if (nonEmpty(l)) {
    const list = l as unknown[];
    ensure(list.length * 10 + 6 + HEADROOM);
    out[wp++] = 0x12;
    const at = wp++;
    for (let i = 0; i < list.length; i++) {
      bits(list[i]);
      wVarint64();
    }
    endMsg(at, 1);
  }
}

function zigzag(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

function wExpPoint(m: Msg): void {
  let v: unknown;
  wKvs(0x0a, m.attributes);
  wTimes(m);
  if (isLong((v = m.count))) { out[wp++] = 0x21; wFixed64(v); }
  if ((v = m.sum) != null) { out[wp++] = 0x29; wDouble(v); }
  if (isNum((v = m.scale))) { out[wp++] = 0x30; wVarint(zigzag(v as number)); }
  if (isLong((v = m.zeroCount))) { out[wp++] = 0x39; wFixed64(v); }
  if ((v = m.positive) != null) { out[wp++] = 0x42; wMsg(v as Msg, wBuckets); }
  if ((v = m.negative) != null) { out[wp++] = 0x4a; wMsg(v as Msg, wBuckets); }
  if (isNum((v = m.flags))) { out[wp++] = 0x50; wVarint((v as number) >>> 0); }
  wList(0x5a, m.exemplars, wExemplar);
  if ((v = m.min) != null) { out[wp++] = 0x61; wDouble(v); }
  if ((v = m.max) != null) { out[wp++] = 0x69; wDouble(v); }
  if (isDouble((v = m.zeroThreshold))) { out[wp++] = 0x71; wDouble(v); }
}

function wSummaryPoint(m: Msg): void {
  let v: unknown;
  wTimes(m);
  if (isLong((v = m.count))) { out[wp++] = 0x21; wFixed64(v); }
  if (isDouble((v = m.sum))) { out[wp++] = 0x29; wDouble(v); }
  wList(0x32, m.quantileValues, wQuantile);
  wKvs(0x3a, m.attributes);
  if (isNum((v = m.flags))) { out[wp++] = 0x40; wVarint((v as number) >>> 0); }
}

function wQuantile(m: Msg): void {
  let v: unknown;
  if (isDouble((v = m.quantile))) { out[wp++] = 0x09; wDouble(v); }
  if (isDouble((v = m.value))) { out[wp++] = 0x11; wDouble(v); }
}

// ---- logs ----------------------------------------------------------------------------------

const wResourceLogs: Writer = (m) => wResourceEntry(m, m.scopeLogs, wScopeLogs);
const wScopeLogs: Writer = (m) => wScopeEntry(m, m.logRecords, wLogRecord);

function wLogRecord(m: Msg): void {
  let v: unknown;
  if (isLong((v = m.timeUnixNano))) { out[wp++] = 0x09; wFixed64(v); }
  if (isNum((v = m.severityNumber))) { out[wp++] = 0x10; wInt32(v as number); }
  if (isStr((v = m.severityText))) { out[wp++] = 0x1a; wStr(v); }
  if ((v = m.body) != null) { out[wp++] = 0x2a; wAnyMsg(v as Msg); }
  wKvs(0x32, m.attributes);
  if (isNum((v = m.droppedAttributesCount))) { out[wp++] = 0x38; wVarint((v as number) >>> 0); }
  if (isNum((v = m.flags))) { out[wp++] = 0x45; wFixed32(v as number); }
  if (isBytes((v = m.traceId))) { out[wp++] = 0x4a; wBytes(v); }
  if (isBytes((v = m.spanId))) { out[wp++] = 0x52; wBytes(v); }
  if (isLong((v = m.observedTimeUnixNano))) { out[wp++] = 0x59; wFixed64(v); }
  if (isStr((v = m.eventName))) { out[wp++] = 0x62; wStr(v); }
}

// ---- requests ------------------------------------------------------------------------------

function request(list: unknown, writer: Writer): Buffer {
  wp = 0;
  depth = 0;
  try {
    // Request depth 0; resource entries (depth 1) are large: a 3-byte prefix guess.
    wList(0x0a, list, writer, 3);
    const result = Buffer.allocUnsafe(wp);
    out.copy(result, 0, 0, wp);
    return result;
  } finally {
    if (out.length > KEEP_SCRATCH) out = Buffer.allocUnsafeSlow(1 << 20) as WriteBuffer;
  }
}


/** Throws plain errors on unencodable input; the codec wraps them as PermanentError. */
export function encodeTracesFast(m: Msg): Buffer {
  return request(m.resourceSpans, wResourceSpans);
}

export function encodeMetricsFast(m: Msg): Buffer {
  return request(m.resourceMetrics, wResourceMetrics);
}

export function encodeLogsFast(m: Msg): Buffer {
  return request(m.resourceLogs, wResourceLogs);
}

// ---- traces in pieces ------------------------------------------------------------------------

/**
 * A traces batch encoded once, field by field, so that many requests can be assembled from it
 * by copying (the kafka exporter's one message per trace: a resource's and a scope's bytes are
 * written once per batch, not once per message). Every piece is exactly what encodeTracesFast
 * writes for that field, tag and length prefix included; ranges are [start, end) in `bytes`.
 */
export interface TracesPieces {
  bytes: Buffer;
  /** 4 per resource entry: its `resource` field (empty when unset), then its `schema_url` field (empty when unset). */
  resources: Int32Array;
  /** 4 per scope entry, numbered across the batch in order: its `scope` field, then its `schema_url` field. */
  scopes: Int32Array;
  /** 2 per span, numbered across the batch in order: the span as a ScopeSpans.spans entry (tag 0x12). */
  spans: Int32Array;
  /** Per scope entry, its resource entry's index; per span, its scope entry's index. */
  scopeResource: Int32Array;
  spanScope: Int32Array;
}

/** An entry's own fields, as TracesPieces records them in table[4k, 4k + 4): its head message
 * (field 1: resource or scope), then its schema_url (field 3). */
function wEntryFields(table: Int32Array, k: number, head: unknown, writer: Writer, schemaUrl: unknown): void {
  table[4 * k] = wp;
  if (head != null) { out[wp++] = 0x0a; wMsg(head as Msg, writer); }
  table[4 * k + 1] = table[4 * k + 2] = wp;
  if (isStr(schemaUrl)) { out[wp++] = 0x1a; wStr(schemaUrl); }
  table[4 * k + 3] = wp;
}

/** Throws plain errors on unencodable input, like encodeTracesFast (at the same depths). */
export function encodeTracesPieces(m: Msg): TracesPieces {
  const rsl = (m.resourceSpans ?? []) as Msg[];
  let nScopes = 0;
  let nSpans = 0;
  for (let r = 0; r < rsl.length; r++) {
    const ssl = (rsl[r]!.scopeSpans ?? []) as Msg[];
    nScopes += ssl.length;
    for (let c = 0; c < ssl.length; c++) nSpans += ((ssl[c]!.spans ?? []) as unknown[]).length;
  }
  const resources = new Int32Array(rsl.length * 4);
  const scopes = new Int32Array(nScopes * 4);
  const spans = new Int32Array(nSpans * 2);
  const scopeResource = new Int32Array(nScopes);
  const spanScope = new Int32Array(nSpans);
  wp = 0;
  depth = 0;
  try {
    let c = 0;
    let s = 0;
    for (let r = 0; r < rsl.length; r++) {
      const rs = rsl[r]!;
      // The depths a full request would be at: resource entry 1, scope entry 2.
      depth = 1;
      ensure(HEADROOM);
      wEntryFields(resources, r, rs.resource, wResource, rs.schemaUrl);
      const ssl = (rs.scopeSpans ?? []) as Msg[];
      for (let j = 0; j < ssl.length; j++, c++) {
        const ss = ssl[j]!;
        depth = 2;
        scopeResource[c] = r;
        wEntryFields(scopes, c, ss.scope, wScope, ss.schemaUrl);
        const l = (ss.spans ?? []) as Msg[];
        for (let k = 0; k < l.length; k++, s++) {
          spanScope[s] = c;
          spans[2 * s] = wp;
          out[wp++] = 0x12;
          wMsg(l[k]!, wSpan, 2);
          spans[2 * s + 1] = wp;
        }
      }
    }
    const bytes = Buffer.allocUnsafe(wp);
    out.copy(bytes, 0, 0, wp);
    return { bytes, resources, scopes, spans, scopeResource, spanScope };
  } finally {
    depth = 0;
    if (out.length > KEEP_SCRATCH) out = Buffer.allocUnsafeSlow(1 << 20) as WriteBuffer;
  }
}
