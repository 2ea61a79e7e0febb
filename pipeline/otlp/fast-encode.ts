// A hand-written protobuf encoder for the OTLP export requests, written from the field numbers in
// schema.ts. Two passes over the pdata: the first computes every nested message's size (and every
// string's UTF-8 length) bottom-up into one reusable Int32Array, in the order the second pass
// needs them; the second writes into one Buffer of exactly the final size. No object per field.
//
// Which fields are written follows protobufjs' encoder exactly, so the bytes are identical to
// the reference encodeRequest: fields in field-number order; a proto3 scalar only when it is an
// own, non-null, non-default property; oneof members and proto3 `optional` fields when own and
// non-null (even if zero); repeated fields when non-empty (scalars packed); numbers, decimal
// strings and Longs accepted for 64-bit fields. One known difference: strings with unpaired
// UTF-16 surrogates are written as U+FFFD (valid UTF-8, Node's rule); protobufjs writes short
// ones as raw surrogate bytes that no strict decoder (its own included) accepts.
import Long from 'long';
import { MAX_DEPTH, Msg, ctorOf } from './fast-wire';

interface WriteBuffer extends Buffer {
  utf8Write(s: string, offset: number, length: number): number;
  latin1Write(s: string, offset: number, length: number): number;
}

const hasOwn = Object.prototype.hasOwnProperty;

// ---- pass 1: sizes -------------------------------------------------------------------------

let sizes = new Int32Array(4096);
let sn = 0;
let si = 0;

function reserve(): number {
  if (sn === sizes.length) {
    const bigger = new Int32Array(sizes.length * 2);
    bigger.set(sizes);
    sizes = bigger;
  }
  return sn++;
}

function varintLen(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
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

function varint64Len(): number {
  const p1 = ((blo >>> 28) | (bhi << 4)) >>> 0;
  const p2 = bhi >>> 24;
  if (p2 === 0) {
    if (p1 === 0) return blo < 16384 ? (blo < 128 ? 1 : 2) : blo < 2097152 ? 3 : 4;
    return p1 < 16384 ? (p1 < 128 ? 5 : 6) : p1 < 2097152 ? 7 : 8;
  }
  return p2 < 128 ? 9 : 10;
}

/** UTF-8 length of a string field's value, remembered for pass 2; returns the field's length-prefixed size. */
function strSize(v: unknown): number {
  const s = typeof v === 'string' ? v : '';
  let n = s.length;
  if (n < 64) {
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) >= 0x80) {
        n = Buffer.byteLength(s, 'utf8');
        break;
      }
    }
  } else {
    n = Buffer.byteLength(s, 'utf8');
  }
  const i = reserve(); // reserve() may replace `sizes`: index first
  sizes[i] = n;
  return varintLen(n) + n;
}

function asBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v, 'base64');
  return Uint8Array.from(v as ArrayLike<number>);
}

function bytesSize(v: unknown): number {
  const n = asBytes(v).length;
  return varintLen(n) + n;
}

function int32Len(v: number): number {
  return v < 0 ? 10 : varintLen(v >>> 0);
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

type Sizer = (m: Msg, depth: number) => number;
type Writer = (m: Msg) => void;

function check(depth: number): void {
  if (depth > MAX_DEPTH) throw new Error('max depth exceeded');
}

/** One nested message field: reserve its size slot first (pre-order), fill it after. */
function msgSize(child: Msg, depth: number, sizer: Sizer): number {
  const i = reserve();
  const n = sizer(child, depth);
  sizes[i] = n;
  return varintLen(n) + n;
}

/** A repeated message field with a one-byte tag. */
function listSize(list: unknown, depth: number, sizer: Sizer): number {
  if (!nonEmpty(list)) return 0;
  const l = list as Msg[];
  let n = 0;
  for (let i = 0; i < l.length; i++) n += 1 + msgSize(l[i]!, depth, sizer);
  return n;
}

// ---- pass 2: writing -----------------------------------------------------------------------

let out = Buffer.alloc(0) as WriteBuffer;
let wp = 0;
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
  const n = sizes[si++]!;
  wVarint(n);
  if (n === s.length) {
    // ASCII (a non-ASCII UTF-16 unit always takes more than one UTF-8 byte).
    if (n < 32) {
      const o = out;
      const p = wp;
      for (let i = 0; i < n; i++) o[p + i] = s.charCodeAt(i);
      wp = p + n;
    } else wp += out.latin1Write(s, wp, n);
  } else {
    wp += out.utf8Write(s, wp, n);
  }
}

function wBytes(v: unknown): void {
  const b = asBytes(v);
  const n = b.length;
  wVarint(n);
  const o = out;
  const p = wp;
  // Ids are 8 or 16 bytes: a loop beats set() (a native call) at that size.
  if (n <= 32) for (let i = 0; i < n; i++) o[p + i] = b[i]!;
  else o.set(b, p);
  wp = p + n;
}

function wMsg(child: Msg, writer: Writer): void {
  wVarint(sizes[si++]!);
  writer(child);
}

function wList(tag: number, list: unknown, writer: Writer): void {
  if (!nonEmpty(list)) return;
  const l = list as Msg[];
  for (let i = 0; i < l.length; i++) {
    out[wp++] = tag;
    wMsg(l[i]!, writer);
  }
}

// ---- common --------------------------------------------------------------------------------

// AnyValue is the most frequent message (one per attribute): its members are checked once, in
// pass 1, and pass 2 reads which were present from the size stack.
function sAny(m: Msg, depth: number): number {
  check(depth);
  const mi = reserve();
  let mask = 0;
  let n = 0;
  let v: unknown;
  if (member(m, 'stringValue', (v = m.stringValue), D_STRING)) { mask |= 1; n += 1 + strSize(v); }
  if (member(m, 'boolValue', m.boolValue, D_BOOL)) { mask |= 2; n += 2; }
  if (member(m, 'intValue', (v = m.intValue), D_INT)) { mask |= 4; bits(v); n += 1 + varint64Len(); }
  if (member(m, 'doubleValue', m.doubleValue, D_DOUBLE)) { mask |= 8; n += 9; }
  if ((v = m.arrayValue) != null) { mask |= 16; n += 1 + msgSize(v as Msg, depth + 1, sValues); }
  if ((v = m.kvlistValue) != null) { mask |= 32; n += 1 + msgSize(v as Msg, depth + 1, sKvList); }
  if (member(m, 'bytesValue', (v = m.bytesValue), D_BYTES)) { mask |= 64; n += 1 + bytesSize(v); }
  sizes[mi] = mask;
  return n;
}

function wAny(m: Msg): void {
  const mask = sizes[si++]!;
  if (mask & 1) { out[wp++] = 0x0a; wStr(m.stringValue); }
  if (mask & 2) { out[wp++] = 0x10; out[wp++] = m.boolValue ? 1 : 0; }
  if (mask & 4) { out[wp++] = 0x18; bits(m.intValue); wVarint64(); }
  if (mask & 8) { out[wp++] = 0x21; wDouble(m.doubleValue); }
  if (mask & 16) { out[wp++] = 0x2a; wMsg(m.arrayValue as Msg, wValues); }
  if (mask & 32) { out[wp++] = 0x32; wMsg(m.kvlistValue as Msg, wKvList); }
  if (mask & 64) { out[wp++] = 0x3a; wBytes(m.bytesValue); }
}

// Attributes are most of the data: their loops call sKeyValue/sAny directly (not through the
// generic listSize/msgSize, whose sizer argument makes the call megamorphic), so V8 can inline.
function kvListSize(list: unknown, depth: number): number {
  if (!nonEmpty(list)) return 0;
  const l = list as Msg[];
  let n = 0;
  for (let i = 0; i < l.length; i++) {
    const at = reserve();
    const k = sKeyValue(l[i]!, depth);
    sizes[at] = k;
    n += 1 + varintLen(k) + k;
  }
  return n;
}

function wKvs(tag: number, list: unknown): void {
  if (!nonEmpty(list)) return;
  const l = list as Msg[];
  for (let i = 0; i < l.length; i++) {
    out[wp++] = tag;
    wVarint(sizes[si++]!);
    wKeyValue(l[i]!);
  }
}

function anySize(v: Msg, depth: number): number {
  const at = reserve();
  const n = sAny(v, depth);
  sizes[at] = n;
  return varintLen(n) + n;
}

function wAnyMsg(v: Msg): void {
  wVarint(sizes[si++]!);
  wAny(v);
}

function sValues(m: Msg, depth: number): number {
  check(depth);
  return listSize(m.values, depth + 1, sAny);
}
function wValues(m: Msg): void {
  wList(0x0a, m.values, wAny);
}

function sKvList(m: Msg, depth: number): number {
  check(depth);
  return kvListSize(m.values, depth + 1);
}
function wKvList(m: Msg): void {
  wKvs(0x0a, m.values);
}

function sKeyValue(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (isStr((v = m.key))) n += 1 + strSize(v);
  if ((v = m.value) != null) n += 1 + anySize(v as Msg, depth + 1);
  return n;
}
function wKeyValue(m: Msg): void {
  let v: unknown;
  if (isStr((v = m.key))) { out[wp++] = 0x0a; wStr(v); }
  if ((v = m.value) != null) { out[wp++] = 0x12; wAnyMsg(v as Msg); }
}

function sScope(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (isStr((v = m.name))) n += 1 + strSize(v);
  if (isStr((v = m.version))) n += 1 + strSize(v);
  n += kvListSize(m.attributes, depth + 1);
  if (isNum((v = m.droppedAttributesCount))) n += 1 + varintLen((v as number) >>> 0);
  return n;
}
function wScope(m: Msg): void {
  let v: unknown;
  if (isStr((v = m.name))) { out[wp++] = 0x0a; wStr(v); }
  if (isStr((v = m.version))) { out[wp++] = 0x12; wStr(v); }
  wKvs(0x1a, m.attributes);
  if (isNum((v = m.droppedAttributesCount))) { out[wp++] = 0x20; wVarint((v as number) >>> 0); }
}

function sStrings(list: unknown): number {
  if (!nonEmpty(list)) return 0;
  const l = list as unknown[];
  let n = 0;
  for (let i = 0; i < l.length; i++) n += 1 + strSize(l[i]);
  return n;
}
function wStrings(tag: number, list: unknown): void {
  if (!nonEmpty(list)) return;
  const l = list as unknown[];
  for (let i = 0; i < l.length; i++) {
    out[wp++] = tag;
    wStr(l[i]);
  }
}

function sEntityRef(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (isStr((v = m.schemaUrl))) n += 1 + strSize(v);
  if (isStr((v = m.type))) n += 1 + strSize(v);
  n += sStrings(m.idKeys);
  n += sStrings(m.descriptionKeys);
  return n;
}
function wEntityRef(m: Msg): void {
  let v: unknown;
  if (isStr((v = m.schemaUrl))) { out[wp++] = 0x0a; wStr(v); }
  if (isStr((v = m.type))) { out[wp++] = 0x12; wStr(v); }
  wStrings(0x1a, m.idKeys);
  wStrings(0x22, m.descriptionKeys);
}

function sResource(m: Msg, depth: number): number {
  check(depth);
  let n = kvListSize(m.attributes, depth + 1);
  let v: unknown;
  if (isNum((v = m.droppedAttributesCount))) n += 1 + varintLen((v as number) >>> 0);
  n += listSize(m.entityRefs, depth + 1, sEntityRef);
  return n;
}
function wResource(m: Msg): void {
  wKvs(0x0a, m.attributes);
  let v: unknown;
  if (isNum((v = m.droppedAttributesCount))) { out[wp++] = 0x10; wVarint((v as number) >>> 0); }
  wList(0x1a, m.entityRefs, wEntityRef);
}

/** resource = 1, <scopes> = 2, schema_url = 3: ResourceSpans/Metrics/Logs share this layout. */
function sResourceEntry(m: Msg, scopes: unknown, depth: number, sizer: Sizer): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if ((v = m.resource) != null) n += 1 + msgSize(v as Msg, depth + 1, sResource);
  n += listSize(scopes, depth + 1, sizer);
  if (isStr((v = m.schemaUrl))) n += 1 + strSize(v);
  return n;
}
function wResourceEntry(m: Msg, scopes: unknown, writer: Writer): void {
  let v: unknown;
  if ((v = m.resource) != null) { out[wp++] = 0x0a; wMsg(v as Msg, wResource); }
  wList(0x12, scopes, writer);
  if (isStr((v = m.schemaUrl))) { out[wp++] = 0x1a; wStr(v); }
}

/** scope = 1, <items> = 2, schema_url = 3: ScopeSpans/Metrics/Logs share this layout. */
function sScopeEntry(m: Msg, items: unknown, depth: number, sizer: Sizer): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if ((v = m.scope) != null) n += 1 + msgSize(v as Msg, depth + 1, sScope);
  n += listSize(items, depth + 1, sizer);
  if (isStr((v = m.schemaUrl))) n += 1 + strSize(v);
  return n;
}
function wScopeEntry(m: Msg, items: unknown, writer: Writer): void {
  let v: unknown;
  if ((v = m.scope) != null) { out[wp++] = 0x0a; wMsg(v as Msg, wScope); }
  wList(0x12, items, writer);
  if (isStr((v = m.schemaUrl))) { out[wp++] = 0x1a; wStr(v); }
}

// ---- traces --------------------------------------------------------------------------------

const sResourceSpans: Sizer = (m, depth) => sResourceEntry(m, m.scopeSpans, depth, sScopeSpans);
const wResourceSpans: Writer = (m) => wResourceEntry(m, m.scopeSpans, wScopeSpans);
function sScopeSpans(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if ((v = m.scope) != null) n += 1 + msgSize(v as Msg, depth + 1, sScope);
  n += spansSize(m.spans, depth + 1);
  if (isStr((v = m.schemaUrl))) n += 1 + strSize(v);
  return n;
}
function wScopeSpans(m: Msg): void {
  let v: unknown;
  if ((v = m.scope) != null) { out[wp++] = 0x0a; wMsg(v as Msg, wScope); }
  const l = m.spans as Msg[] | null | undefined;
  if (nonEmpty(l)) {
    for (let i = 0; i < l!.length; i++) {
      out[wp++] = 0x12;
      wVarint(sizes[si++]!);
      wSpan(l![i]!);
    }
  }
  if (isStr((v = m.schemaUrl))) { out[wp++] = 0x1a; wStr(v); }
}

/** Spans: a direct call per span (see kvListSize). */
function spansSize(list: unknown, depth: number): number {
  if (!nonEmpty(list)) return 0;
  const l = list as Msg[];
  let n = 0;
  for (let i = 0; i < l.length; i++) {
    const at = reserve();
    const k = sSpan(l[i]!, depth);
    sizes[at] = k;
    n += 1 + varintLen(k) + k;
  }
  return n;
}

function sSpan(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (isBytes((v = m.traceId))) n += 1 + bytesSize(v);
  if (isBytes((v = m.spanId))) n += 1 + bytesSize(v);
  if (isStr((v = m.traceState))) n += 1 + strSize(v);
  if (isBytes((v = m.parentSpanId))) n += 1 + bytesSize(v);
  if (isStr((v = m.name))) n += 1 + strSize(v);
  if (isNum((v = m.kind))) n += 1 + int32Len(v as number);
  if (isLong(m.startTimeUnixNano)) n += 9;
  if (isLong(m.endTimeUnixNano)) n += 9;
  n += kvListSize(m.attributes, depth + 1);
  if (isNum((v = m.droppedAttributesCount))) n += 1 + varintLen((v as number) >>> 0);
  n += listSize(m.events, depth + 1, sEvent);
  if (isNum((v = m.droppedEventsCount))) n += 1 + varintLen((v as number) >>> 0);
  n += listSize(m.links, depth + 1, sLink);
  if (isNum((v = m.droppedLinksCount))) n += 1 + varintLen((v as number) >>> 0);
  if ((v = m.status) != null) n += 1 + msgSize(v as Msg, depth + 1, sStatus);
  if (isNum(m.flags)) n += 6; // two-byte tag (field 16) + fixed32
  return n;
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

function sEvent(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (isLong(m.timeUnixNano)) n += 9;
  if (isStr((v = m.name))) n += 1 + strSize(v);
  n += kvListSize(m.attributes, depth + 1);
  if (isNum((v = m.droppedAttributesCount))) n += 1 + varintLen((v as number) >>> 0);
  return n;
}
function wEvent(m: Msg): void {
  let v: unknown;
  if (isLong((v = m.timeUnixNano))) { out[wp++] = 0x09; wFixed64(v); }
  if (isStr((v = m.name))) { out[wp++] = 0x12; wStr(v); }
  wKvs(0x1a, m.attributes);
  if (isNum((v = m.droppedAttributesCount))) { out[wp++] = 0x20; wVarint((v as number) >>> 0); }
}

function sLink(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (isBytes((v = m.traceId))) n += 1 + bytesSize(v);
  if (isBytes((v = m.spanId))) n += 1 + bytesSize(v);
  if (isStr((v = m.traceState))) n += 1 + strSize(v);
  n += kvListSize(m.attributes, depth + 1);
  if (isNum((v = m.droppedAttributesCount))) n += 1 + varintLen((v as number) >>> 0);
  if (isNum(m.flags)) n += 5;
  return n;
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

function sStatus(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (isStr((v = m.message))) n += 1 + strSize(v);
  if (isNum((v = m.code))) n += 1 + int32Len(v as number);
  return n;
}
function wStatus(m: Msg): void {
  let v: unknown;
  if (isStr((v = m.message))) { out[wp++] = 0x12; wStr(v); }
  if (isNum((v = m.code))) { out[wp++] = 0x18; wInt32(v as number); }
}

// ---- metrics -------------------------------------------------------------------------------

const sResourceMetrics: Sizer = (m, depth) => sResourceEntry(m, m.scopeMetrics, depth, sScopeMetrics);
const wResourceMetrics: Writer = (m) => wResourceEntry(m, m.scopeMetrics, wScopeMetrics);
const sScopeMetrics: Sizer = (m, depth) => sScopeEntry(m, m.metrics, depth, sMetric);
const wScopeMetrics: Writer = (m) => wScopeEntry(m, m.metrics, wMetric);

function sMetric(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (isStr((v = m.name))) n += 1 + strSize(v);
  if (isStr((v = m.description))) n += 1 + strSize(v);
  if (isStr((v = m.unit))) n += 1 + strSize(v);
  if ((v = m.gauge) != null) n += 1 + msgSize(v as Msg, depth + 1, sGauge);
  if ((v = m.sum) != null) n += 1 + msgSize(v as Msg, depth + 1, sSum);
  if ((v = m.histogram) != null) n += 1 + msgSize(v as Msg, depth + 1, sHistogram);
  if ((v = m.exponentialHistogram) != null) n += 1 + msgSize(v as Msg, depth + 1, sExpHistogram);
  if ((v = m.summary) != null) n += 1 + msgSize(v as Msg, depth + 1, sSummary);
  n += kvListSize(m.metadata, depth + 1);
  return n;
}
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

function temporalitySize(m: Msg): number {
  const v = m.aggregationTemporality;
  return isNum(v) ? 1 + int32Len(v as number) : 0;
}
function wTemporality(m: Msg): void {
  const v = m.aggregationTemporality;
  if (isNum(v)) { out[wp++] = 0x10; wInt32(v as number); }
}

function sGauge(m: Msg, depth: number): number {
  check(depth);
  return listSize(m.dataPoints, depth + 1, sNumberPoint);
}
function wGauge(m: Msg): void {
  wList(0x0a, m.dataPoints, wNumberPoint);
}
function sSum(m: Msg, depth: number): number {
  check(depth);
  return listSize(m.dataPoints, depth + 1, sNumberPoint) + temporalitySize(m) + (isBool(m.isMonotonic) ? 2 : 0);
}
function wSum(m: Msg): void {
  wList(0x0a, m.dataPoints, wNumberPoint);
  wTemporality(m);
  if (isBool(m.isMonotonic)) { out[wp++] = 0x18; out[wp++] = m.isMonotonic ? 1 : 0; }
}
function sHistogram(m: Msg, depth: number): number {
  check(depth);
  return listSize(m.dataPoints, depth + 1, sHistogramPoint) + temporalitySize(m);
}
function wHistogram(m: Msg): void {
  wList(0x0a, m.dataPoints, wHistogramPoint);
  wTemporality(m);
}
function sExpHistogram(m: Msg, depth: number): number {
  check(depth);
  return listSize(m.dataPoints, depth + 1, sExpPoint) + temporalitySize(m);
}
function wExpHistogram(m: Msg): void {
  wList(0x0a, m.dataPoints, wExpPoint);
  wTemporality(m);
}
function sSummary(m: Msg, depth: number): number {
  check(depth);
  return listSize(m.dataPoints, depth + 1, sSummaryPoint);
}
function wSummary(m: Msg): void {
  wList(0x0a, m.dataPoints, wSummaryPoint);
}

/** start_time = 2, time = 3: fixed64 in every data point and (time only) in exemplars. */
function sTimes(m: Msg): number {
  return (isLong(m.startTimeUnixNano) ? 9 : 0) + (isLong(m.timeUnixNano) ? 9 : 0);
}
function wTimes(m: Msg): void {
  let v: unknown;
  if (isLong((v = m.startTimeUnixNano))) { out[wp++] = 0x11; wFixed64(v); }
  if (isLong((v = m.timeUnixNano))) { out[wp++] = 0x19; wFixed64(v); }
}

function sNumberPoint(m: Msg, depth: number): number {
  check(depth);
  let n = sTimes(m);
  let v: unknown;
  if (member(m, 'asDouble', m.asDouble, NUM_AS_DOUBLE)) n += 9;
  n += listSize(m.exemplars, depth + 1, sExemplar);
  if (member(m, 'asInt', m.asInt, NUM_AS_INT)) n += 9;
  n += kvListSize(m.attributes, depth + 1);
  if (isNum((v = m.flags))) n += 1 + varintLen((v as number) >>> 0);
  return n;
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

function sExemplar(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (isLong(m.timeUnixNano)) n += 9;
  if (member(m, 'asDouble', m.asDouble, EX_AS_DOUBLE)) n += 9;
  if (isBytes((v = m.spanId))) n += 1 + bytesSize(v);
  if (isBytes((v = m.traceId))) n += 1 + bytesSize(v);
  if (member(m, 'asInt', m.asInt, EX_AS_INT)) n += 9;
  n += kvListSize(m.filteredAttributes, depth + 1);
  return n;
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

/** Packed repeated fixed64/double: 8 bytes each. */
function packed8Size(list: unknown): number {
  if (!nonEmpty(list)) return 0;
  const n = (list as unknown[]).length * 8;
  return 1 + varintLen(n) + n;
}
function wPackedFixed64(tag: number, list: unknown): void {
  if (!nonEmpty(list)) return;
  const l = list as unknown[];
  out[wp++] = tag;
  wVarint(l.length * 8);
  for (let i = 0; i < l.length; i++) wFixed64(l[i]);
}
function wPackedDouble(tag: number, list: unknown): void {
  if (!nonEmpty(list)) return;
  const l = list as unknown[];
  out[wp++] = tag;
  wVarint(l.length * 8);
  for (let i = 0; i < l.length; i++) wDouble(l[i]);
}

function sHistogramPoint(m: Msg, depth: number): number {
  check(depth);
  let n = sTimes(m);
  let v: unknown;
  if (isLong(m.count)) n += 9;
  if (m.sum != null) n += 9;
  n += packed8Size(m.bucketCounts);
  n += packed8Size(m.explicitBounds);
  n += listSize(m.exemplars, depth + 1, sExemplar);
  n += kvListSize(m.attributes, depth + 1);
  if (isNum((v = m.flags))) n += 1 + varintLen((v as number) >>> 0);
  if (m.min != null) n += 9;
  if (m.max != null) n += 9;
  return n;
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

function sBuckets(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  const v = m.offset;
  if (isNum(v)) n += 1 + varintLen(zigzag(v as number));
  const l = m.bucketCounts;
  if (nonEmpty(l)) {
    const list = l as unknown[];
    let body = 0;
    for (let i = 0; i < list.length; i++) {
      bits(list[i]);
      body += varint64Len();
    }
    const i = reserve();
    sizes[i] = body;
    n += 1 + varintLen(body) + body;
  }
  return n;
}
function wBuckets(m: Msg): void {
  const v = m.offset;
  if (isNum(v)) { out[wp++] = 0x08; wVarint(zigzag(v as number)); }
  const l = m.bucketCounts;
  if (nonEmpty(l)) {
    const list = l as unknown[];
    out[wp++] = 0x12;
    wVarint(sizes[si++]!);
    for (let i = 0; i < list.length; i++) {
      bits(list[i]);
      wVarint64();
    }
  }
}

function zigzag(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

function sExpPoint(m: Msg, depth: number): number {
  check(depth);
  let n = kvListSize(m.attributes, depth + 1) + sTimes(m);
  let v: unknown;
  if (isLong(m.count)) n += 9;
  if (m.sum != null) n += 9;
  if (isNum((v = m.scale))) n += 1 + varintLen(zigzag(v as number));
  if (isLong(m.zeroCount)) n += 9;
  if ((v = m.positive) != null) n += 1 + msgSize(v as Msg, depth + 1, sBuckets);
  if ((v = m.negative) != null) n += 1 + msgSize(v as Msg, depth + 1, sBuckets);
  if (isNum((v = m.flags))) n += 1 + varintLen((v as number) >>> 0);
  n += listSize(m.exemplars, depth + 1, sExemplar);
  if (m.min != null) n += 9;
  if (m.max != null) n += 9;
  if (isDouble(m.zeroThreshold)) n += 9;
  return n;
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

function sSummaryPoint(m: Msg, depth: number): number {
  check(depth);
  let n = sTimes(m);
  let v: unknown;
  if (isLong(m.count)) n += 9;
  if (isDouble(m.sum)) n += 9;
  n += listSize(m.quantileValues, depth + 1, sQuantile);
  n += kvListSize(m.attributes, depth + 1);
  if (isNum((v = m.flags))) n += 1 + varintLen((v as number) >>> 0);
  return n;
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

function sQuantile(m: Msg, depth: number): number {
  check(depth);
  return (isDouble(m.quantile) ? 9 : 0) + (isDouble(m.value) ? 9 : 0);
}
function wQuantile(m: Msg): void {
  let v: unknown;
  if (isDouble((v = m.quantile))) { out[wp++] = 0x09; wDouble(v); }
  if (isDouble((v = m.value))) { out[wp++] = 0x11; wDouble(v); }
}

// ---- logs ----------------------------------------------------------------------------------

const sResourceLogs: Sizer = (m, depth) => sResourceEntry(m, m.scopeLogs, depth, sScopeLogs);
const wResourceLogs: Writer = (m) => wResourceEntry(m, m.scopeLogs, wScopeLogs);
const sScopeLogs: Sizer = (m, depth) => sScopeEntry(m, m.logRecords, depth, sLogRecord);
const wScopeLogs: Writer = (m) => wScopeEntry(m, m.logRecords, wLogRecord);

function sLogRecord(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (isLong(m.timeUnixNano)) n += 9;
  if (isNum((v = m.severityNumber))) n += 1 + int32Len(v as number);
  if (isStr((v = m.severityText))) n += 1 + strSize(v);
  if ((v = m.body) != null) n += 1 + anySize(v as Msg, depth + 1);
  n += kvListSize(m.attributes, depth + 1);
  if (isNum((v = m.droppedAttributesCount))) n += 1 + varintLen((v as number) >>> 0);
  if (isNum(m.flags)) n += 5;
  if (isBytes((v = m.traceId))) n += 1 + bytesSize(v);
  if (isBytes((v = m.spanId))) n += 1 + bytesSize(v);
  if (isLong(m.observedTimeUnixNano)) n += 9;
  if (isStr((v = m.eventName))) n += 1 + strSize(v);
  return n;
}
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

function request(list: unknown, sizer: Sizer, writer: Writer): Buffer {
  sn = 0;
  si = 0;
  const total = listSize(list, 1, sizer);
  const result = Buffer.allocUnsafe(total) as WriteBuffer;
  out = result;
  wp = 0;
  try {
    wList(0x0a, list, writer);
  } finally {
    out = EMPTY;
  }
  // Both passes read the same fields: a mismatch means the data changed under the encoder.
  if (wp !== total || si !== sn) throw new Error(`encoder passes disagree (${wp} of ${total} bytes)`);
  return result;
}

const EMPTY = Buffer.alloc(0) as WriteBuffer;

/** Throws plain errors on unencodable input; the codec wraps them as PermanentError. */
export function encodeTracesFast(m: Msg): Buffer {
  return request(m.resourceSpans, sResourceSpans, wResourceSpans);
}

export function encodeMetricsFast(m: Msg): Buffer {
  return request(m.resourceMetrics, sResourceMetrics, wResourceMetrics);
}

export function encodeLogsFast(m: Msg): Buffer {
  return request(m.resourceLogs, sResourceLogs, wResourceLogs);
}
