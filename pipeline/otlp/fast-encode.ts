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
import { MAX_DEPTH, Msg } from './fast-wire';

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

// Field presence as protobufjs decides it (see the header).
function hasStr(m: Msg, k: string, v: unknown): boolean {
  return v != null && v !== '' && hasOwn.call(m, k);
}
function hasNum(m: Msg, k: string, v: unknown): boolean {
  return v != null && v !== 0 && hasOwn.call(m, k);
}
function hasBytes(m: Msg, k: string, v: unknown): boolean {
  return v != null && (v as { length: number }).length > 0 && hasOwn.call(m, k);
}
function hasLong(m: Msg, k: string, v: unknown): boolean {
  return v != null && (typeof v === 'object' ? ((v as Long).low || (v as Long).high) !== 0 : v !== 0) && hasOwn.call(m, k);
}
function hasDouble(m: Msg, k: string, v: unknown): boolean {
  return v != null && !Object.is(v, 0) && hasOwn.call(m, k);
}
function hasBool(m: Msg, k: string, v: unknown): boolean {
  return v != null && v !== false && hasOwn.call(m, k);
}
/** Message fields, oneof members and proto3 optional fields. */
function present(m: Msg, k: string, v: unknown): boolean {
  return v != null && hasOwn.call(m, k);
}
function nonEmpty(v: unknown): boolean {
  return v != null && (v as unknown[]).length > 0;
}

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

function wVarint(v: number): void {
  while (v > 127) {
    out[wp++] = (v & 127) | 128;
    v >>>= 7;
  }
  out[wp++] = v;
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
  out[wp++] = v & 255;
  out[wp++] = (v >>> 8) & 255;
  out[wp++] = (v >>> 16) & 255;
  out[wp++] = v >>> 24;
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
  out[wp++] = f64b[0]!; out[wp++] = f64b[1]!; out[wp++] = f64b[2]!; out[wp++] = f64b[3]!;
  out[wp++] = f64b[4]!; out[wp++] = f64b[5]!; out[wp++] = f64b[6]!; out[wp++] = f64b[7]!;
}

function wStr(v: unknown): void {
  const s = typeof v === 'string' ? v : '';
  const n = sizes[si++]!;
  wVarint(n);
  if (n === s.length) {
    // ASCII (a non-ASCII UTF-16 unit always takes more than one UTF-8 byte).
    if (n < 32) for (let i = 0; i < n; i++) out[wp++] = s.charCodeAt(i);
    else wp += out.latin1Write(s, wp, n);
  } else {
    wp += out.utf8Write(s, wp, n);
  }
}

function wBytes(v: unknown): void {
  const b = asBytes(v);
  wVarint(b.length);
  out.set(b, wp);
  wp += b.length;
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

function sAny(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (present(m, 'stringValue', (v = m.stringValue))) n += 1 + strSize(v);
  if (present(m, 'boolValue', m.boolValue)) n += 2;
  if (present(m, 'intValue', (v = m.intValue))) { bits(v); n += 1 + varint64Len(); }
  if (present(m, 'doubleValue', m.doubleValue)) n += 9;
  if (present(m, 'arrayValue', (v = m.arrayValue))) n += 1 + msgSize(v as Msg, depth + 1, sValues);
  if (present(m, 'kvlistValue', (v = m.kvlistValue))) n += 1 + msgSize(v as Msg, depth + 1, sKvList);
  if (present(m, 'bytesValue', (v = m.bytesValue))) n += 1 + bytesSize(v);
  return n;
}

function wAny(m: Msg): void {
  let v: unknown;
  if (present(m, 'stringValue', (v = m.stringValue))) { out[wp++] = 0x0a; wStr(v); }
  if (present(m, 'boolValue', (v = m.boolValue))) { out[wp++] = 0x10; out[wp++] = v ? 1 : 0; }
  if (present(m, 'intValue', (v = m.intValue))) { out[wp++] = 0x18; bits(v); wVarint64(); }
  if (present(m, 'doubleValue', (v = m.doubleValue))) { out[wp++] = 0x21; wDouble(v); }
  if (present(m, 'arrayValue', (v = m.arrayValue))) { out[wp++] = 0x2a; wMsg(v as Msg, wValues); }
  if (present(m, 'kvlistValue', (v = m.kvlistValue))) { out[wp++] = 0x32; wMsg(v as Msg, wKvList); }
  if (present(m, 'bytesValue', (v = m.bytesValue))) { out[wp++] = 0x3a; wBytes(v); }
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
  return listSize(m.values, depth + 1, sKeyValue);
}
function wKvList(m: Msg): void {
  wList(0x0a, m.values, wKeyValue);
}

function sKeyValue(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (hasStr(m, 'key', (v = m.key))) n += 1 + strSize(v);
  if (present(m, 'value', (v = m.value))) n += 1 + msgSize(v as Msg, depth + 1, sAny);
  return n;
}
function wKeyValue(m: Msg): void {
  let v: unknown;
  if (hasStr(m, 'key', (v = m.key))) { out[wp++] = 0x0a; wStr(v); }
  if (present(m, 'value', (v = m.value))) { out[wp++] = 0x12; wMsg(v as Msg, wAny); }
}

function sScope(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (hasStr(m, 'name', (v = m.name))) n += 1 + strSize(v);
  if (hasStr(m, 'version', (v = m.version))) n += 1 + strSize(v);
  n += listSize(m.attributes, depth + 1, sKeyValue);
  if (hasNum(m, 'droppedAttributesCount', (v = m.droppedAttributesCount))) n += 1 + varintLen((v as number) >>> 0);
  return n;
}
function wScope(m: Msg): void {
  let v: unknown;
  if (hasStr(m, 'name', (v = m.name))) { out[wp++] = 0x0a; wStr(v); }
  if (hasStr(m, 'version', (v = m.version))) { out[wp++] = 0x12; wStr(v); }
  wList(0x1a, m.attributes, wKeyValue);
  if (hasNum(m, 'droppedAttributesCount', (v = m.droppedAttributesCount))) { out[wp++] = 0x20; wVarint((v as number) >>> 0); }
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
  if (hasStr(m, 'schemaUrl', (v = m.schemaUrl))) n += 1 + strSize(v);
  if (hasStr(m, 'type', (v = m.type))) n += 1 + strSize(v);
  n += sStrings(m.idKeys);
  n += sStrings(m.descriptionKeys);
  return n;
}
function wEntityRef(m: Msg): void {
  let v: unknown;
  if (hasStr(m, 'schemaUrl', (v = m.schemaUrl))) { out[wp++] = 0x0a; wStr(v); }
  if (hasStr(m, 'type', (v = m.type))) { out[wp++] = 0x12; wStr(v); }
  wStrings(0x1a, m.idKeys);
  wStrings(0x22, m.descriptionKeys);
}

function sResource(m: Msg, depth: number): number {
  check(depth);
  let n = listSize(m.attributes, depth + 1, sKeyValue);
  let v: unknown;
  if (hasNum(m, 'droppedAttributesCount', (v = m.droppedAttributesCount))) n += 1 + varintLen((v as number) >>> 0);
  n += listSize(m.entityRefs, depth + 1, sEntityRef);
  return n;
}
function wResource(m: Msg): void {
  wList(0x0a, m.attributes, wKeyValue);
  let v: unknown;
  if (hasNum(m, 'droppedAttributesCount', (v = m.droppedAttributesCount))) { out[wp++] = 0x10; wVarint((v as number) >>> 0); }
  wList(0x1a, m.entityRefs, wEntityRef);
}

/** resource = 1, <scopes> = 2, schema_url = 3: ResourceSpans/Metrics/Logs share this layout. */
function sResourceEntry(m: Msg, scopes: unknown, depth: number, sizer: Sizer): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (present(m, 'resource', (v = m.resource))) n += 1 + msgSize(v as Msg, depth + 1, sResource);
  n += listSize(scopes, depth + 1, sizer);
  if (hasStr(m, 'schemaUrl', (v = m.schemaUrl))) n += 1 + strSize(v);
  return n;
}
function wResourceEntry(m: Msg, scopes: unknown, writer: Writer): void {
  let v: unknown;
  if (present(m, 'resource', (v = m.resource))) { out[wp++] = 0x0a; wMsg(v as Msg, wResource); }
  wList(0x12, scopes, writer);
  if (hasStr(m, 'schemaUrl', (v = m.schemaUrl))) { out[wp++] = 0x1a; wStr(v); }
}

/** scope = 1, <items> = 2, schema_url = 3: ScopeSpans/Metrics/Logs share this layout. */
function sScopeEntry(m: Msg, items: unknown, depth: number, sizer: Sizer): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (present(m, 'scope', (v = m.scope))) n += 1 + msgSize(v as Msg, depth + 1, sScope);
  n += listSize(items, depth + 1, sizer);
  if (hasStr(m, 'schemaUrl', (v = m.schemaUrl))) n += 1 + strSize(v);
  return n;
}
function wScopeEntry(m: Msg, items: unknown, writer: Writer): void {
  let v: unknown;
  if (present(m, 'scope', (v = m.scope))) { out[wp++] = 0x0a; wMsg(v as Msg, wScope); }
  wList(0x12, items, writer);
  if (hasStr(m, 'schemaUrl', (v = m.schemaUrl))) { out[wp++] = 0x1a; wStr(v); }
}

// ---- traces --------------------------------------------------------------------------------

const sResourceSpans: Sizer = (m, depth) => sResourceEntry(m, m.scopeSpans, depth, sScopeSpans);
const wResourceSpans: Writer = (m) => wResourceEntry(m, m.scopeSpans, wScopeSpans);
const sScopeSpans: Sizer = (m, depth) => sScopeEntry(m, m.spans, depth, sSpan);
const wScopeSpans: Writer = (m) => wScopeEntry(m, m.spans, wSpan);

function sSpan(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (hasBytes(m, 'traceId', (v = m.traceId))) n += 1 + bytesSize(v);
  if (hasBytes(m, 'spanId', (v = m.spanId))) n += 1 + bytesSize(v);
  if (hasStr(m, 'traceState', (v = m.traceState))) n += 1 + strSize(v);
  if (hasBytes(m, 'parentSpanId', (v = m.parentSpanId))) n += 1 + bytesSize(v);
  if (hasStr(m, 'name', (v = m.name))) n += 1 + strSize(v);
  if (hasNum(m, 'kind', (v = m.kind))) n += 1 + int32Len(v as number);
  if (hasLong(m, 'startTimeUnixNano', m.startTimeUnixNano)) n += 9;
  if (hasLong(m, 'endTimeUnixNano', m.endTimeUnixNano)) n += 9;
  n += listSize(m.attributes, depth + 1, sKeyValue);
  if (hasNum(m, 'droppedAttributesCount', (v = m.droppedAttributesCount))) n += 1 + varintLen((v as number) >>> 0);
  n += listSize(m.events, depth + 1, sEvent);
  if (hasNum(m, 'droppedEventsCount', (v = m.droppedEventsCount))) n += 1 + varintLen((v as number) >>> 0);
  n += listSize(m.links, depth + 1, sLink);
  if (hasNum(m, 'droppedLinksCount', (v = m.droppedLinksCount))) n += 1 + varintLen((v as number) >>> 0);
  if (present(m, 'status', (v = m.status))) n += 1 + msgSize(v as Msg, depth + 1, sStatus);
  if (hasNum(m, 'flags', m.flags)) n += 6; // two-byte tag (field 16) + fixed32
  return n;
}

function wSpan(m: Msg): void {
  let v: unknown;
  if (hasBytes(m, 'traceId', (v = m.traceId))) { out[wp++] = 0x0a; wBytes(v); }
  if (hasBytes(m, 'spanId', (v = m.spanId))) { out[wp++] = 0x12; wBytes(v); }
  if (hasStr(m, 'traceState', (v = m.traceState))) { out[wp++] = 0x1a; wStr(v); }
  if (hasBytes(m, 'parentSpanId', (v = m.parentSpanId))) { out[wp++] = 0x22; wBytes(v); }
  if (hasStr(m, 'name', (v = m.name))) { out[wp++] = 0x2a; wStr(v); }
  if (hasNum(m, 'kind', (v = m.kind))) { out[wp++] = 0x30; wInt32(v as number); }
  if (hasLong(m, 'startTimeUnixNano', (v = m.startTimeUnixNano))) { out[wp++] = 0x39; wFixed64(v); }
  if (hasLong(m, 'endTimeUnixNano', (v = m.endTimeUnixNano))) { out[wp++] = 0x41; wFixed64(v); }
  wList(0x4a, m.attributes, wKeyValue);
  if (hasNum(m, 'droppedAttributesCount', (v = m.droppedAttributesCount))) { out[wp++] = 0x50; wVarint((v as number) >>> 0); }
  wList(0x5a, m.events, wEvent);
  if (hasNum(m, 'droppedEventsCount', (v = m.droppedEventsCount))) { out[wp++] = 0x60; wVarint((v as number) >>> 0); }
  wList(0x6a, m.links, wLink);
  if (hasNum(m, 'droppedLinksCount', (v = m.droppedLinksCount))) { out[wp++] = 0x70; wVarint((v as number) >>> 0); }
  if (present(m, 'status', (v = m.status))) { out[wp++] = 0x7a; wMsg(v as Msg, wStatus); }
  if (hasNum(m, 'flags', (v = m.flags))) { out[wp++] = 0x85; out[wp++] = 0x01; wFixed32(v as number); }
}

function sEvent(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (hasLong(m, 'timeUnixNano', m.timeUnixNano)) n += 9;
  if (hasStr(m, 'name', (v = m.name))) n += 1 + strSize(v);
  n += listSize(m.attributes, depth + 1, sKeyValue);
  if (hasNum(m, 'droppedAttributesCount', (v = m.droppedAttributesCount))) n += 1 + varintLen((v as number) >>> 0);
  return n;
}
function wEvent(m: Msg): void {
  let v: unknown;
  if (hasLong(m, 'timeUnixNano', (v = m.timeUnixNano))) { out[wp++] = 0x09; wFixed64(v); }
  if (hasStr(m, 'name', (v = m.name))) { out[wp++] = 0x12; wStr(v); }
  wList(0x1a, m.attributes, wKeyValue);
  if (hasNum(m, 'droppedAttributesCount', (v = m.droppedAttributesCount))) { out[wp++] = 0x20; wVarint((v as number) >>> 0); }
}

function sLink(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (hasBytes(m, 'traceId', (v = m.traceId))) n += 1 + bytesSize(v);
  if (hasBytes(m, 'spanId', (v = m.spanId))) n += 1 + bytesSize(v);
  if (hasStr(m, 'traceState', (v = m.traceState))) n += 1 + strSize(v);
  n += listSize(m.attributes, depth + 1, sKeyValue);
  if (hasNum(m, 'droppedAttributesCount', (v = m.droppedAttributesCount))) n += 1 + varintLen((v as number) >>> 0);
  if (hasNum(m, 'flags', m.flags)) n += 5;
  return n;
}
function wLink(m: Msg): void {
  let v: unknown;
  if (hasBytes(m, 'traceId', (v = m.traceId))) { out[wp++] = 0x0a; wBytes(v); }
  if (hasBytes(m, 'spanId', (v = m.spanId))) { out[wp++] = 0x12; wBytes(v); }
  if (hasStr(m, 'traceState', (v = m.traceState))) { out[wp++] = 0x1a; wStr(v); }
  wList(0x22, m.attributes, wKeyValue);
  if (hasNum(m, 'droppedAttributesCount', (v = m.droppedAttributesCount))) { out[wp++] = 0x28; wVarint((v as number) >>> 0); }
  if (hasNum(m, 'flags', (v = m.flags))) { out[wp++] = 0x35; wFixed32(v as number); }
}

function sStatus(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (hasStr(m, 'message', (v = m.message))) n += 1 + strSize(v);
  if (hasNum(m, 'code', (v = m.code))) n += 1 + int32Len(v as number);
  return n;
}
function wStatus(m: Msg): void {
  let v: unknown;
  if (hasStr(m, 'message', (v = m.message))) { out[wp++] = 0x12; wStr(v); }
  if (hasNum(m, 'code', (v = m.code))) { out[wp++] = 0x18; wInt32(v as number); }
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
  if (hasStr(m, 'name', (v = m.name))) n += 1 + strSize(v);
  if (hasStr(m, 'description', (v = m.description))) n += 1 + strSize(v);
  if (hasStr(m, 'unit', (v = m.unit))) n += 1 + strSize(v);
  if (present(m, 'gauge', (v = m.gauge))) n += 1 + msgSize(v as Msg, depth + 1, sGauge);
  if (present(m, 'sum', (v = m.sum))) n += 1 + msgSize(v as Msg, depth + 1, sSum);
  if (present(m, 'histogram', (v = m.histogram))) n += 1 + msgSize(v as Msg, depth + 1, sHistogram);
  if (present(m, 'exponentialHistogram', (v = m.exponentialHistogram))) n += 1 + msgSize(v as Msg, depth + 1, sExpHistogram);
  if (present(m, 'summary', (v = m.summary))) n += 1 + msgSize(v as Msg, depth + 1, sSummary);
  n += listSize(m.metadata, depth + 1, sKeyValue);
  return n;
}
function wMetric(m: Msg): void {
  let v: unknown;
  if (hasStr(m, 'name', (v = m.name))) { out[wp++] = 0x0a; wStr(v); }
  if (hasStr(m, 'description', (v = m.description))) { out[wp++] = 0x12; wStr(v); }
  if (hasStr(m, 'unit', (v = m.unit))) { out[wp++] = 0x1a; wStr(v); }
  if (present(m, 'gauge', (v = m.gauge))) { out[wp++] = 0x2a; wMsg(v as Msg, wGauge); }
  if (present(m, 'sum', (v = m.sum))) { out[wp++] = 0x3a; wMsg(v as Msg, wSum); }
  if (present(m, 'histogram', (v = m.histogram))) { out[wp++] = 0x4a; wMsg(v as Msg, wHistogram); }
  if (present(m, 'exponentialHistogram', (v = m.exponentialHistogram))) { out[wp++] = 0x52; wMsg(v as Msg, wExpHistogram); }
  if (present(m, 'summary', (v = m.summary))) { out[wp++] = 0x5a; wMsg(v as Msg, wSummary); }
  wList(0x62, m.metadata, wKeyValue);
}

function temporalitySize(m: Msg): number {
  const v = m.aggregationTemporality;
  return hasNum(m, 'aggregationTemporality', v) ? 1 + int32Len(v as number) : 0;
}
function wTemporality(m: Msg): void {
  const v = m.aggregationTemporality;
  if (hasNum(m, 'aggregationTemporality', v)) { out[wp++] = 0x10; wInt32(v as number); }
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
  return listSize(m.dataPoints, depth + 1, sNumberPoint) + temporalitySize(m) + (hasBool(m, 'isMonotonic', m.isMonotonic) ? 2 : 0);
}
function wSum(m: Msg): void {
  wList(0x0a, m.dataPoints, wNumberPoint);
  wTemporality(m);
  if (hasBool(m, 'isMonotonic', m.isMonotonic)) { out[wp++] = 0x18; out[wp++] = m.isMonotonic ? 1 : 0; }
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
  return (hasLong(m, 'startTimeUnixNano', m.startTimeUnixNano) ? 9 : 0) + (hasLong(m, 'timeUnixNano', m.timeUnixNano) ? 9 : 0);
}
function wTimes(m: Msg): void {
  let v: unknown;
  if (hasLong(m, 'startTimeUnixNano', (v = m.startTimeUnixNano))) { out[wp++] = 0x11; wFixed64(v); }
  if (hasLong(m, 'timeUnixNano', (v = m.timeUnixNano))) { out[wp++] = 0x19; wFixed64(v); }
}

function sNumberPoint(m: Msg, depth: number): number {
  check(depth);
  let n = sTimes(m);
  let v: unknown;
  if (present(m, 'asDouble', m.asDouble)) n += 9;
  n += listSize(m.exemplars, depth + 1, sExemplar);
  if (present(m, 'asInt', m.asInt)) n += 9;
  n += listSize(m.attributes, depth + 1, sKeyValue);
  if (hasNum(m, 'flags', (v = m.flags))) n += 1 + varintLen((v as number) >>> 0);
  return n;
}
function wNumberPoint(m: Msg): void {
  let v: unknown;
  wTimes(m);
  if (present(m, 'asDouble', (v = m.asDouble))) { out[wp++] = 0x21; wDouble(v); }
  wList(0x2a, m.exemplars, wExemplar);
  if (present(m, 'asInt', (v = m.asInt))) { out[wp++] = 0x31; wFixed64(v); }
  wList(0x3a, m.attributes, wKeyValue);
  if (hasNum(m, 'flags', (v = m.flags))) { out[wp++] = 0x40; wVarint((v as number) >>> 0); }
}

function sExemplar(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  let v: unknown;
  if (hasLong(m, 'timeUnixNano', m.timeUnixNano)) n += 9;
  if (present(m, 'asDouble', m.asDouble)) n += 9;
  if (hasBytes(m, 'spanId', (v = m.spanId))) n += 1 + bytesSize(v);
  if (hasBytes(m, 'traceId', (v = m.traceId))) n += 1 + bytesSize(v);
  if (present(m, 'asInt', m.asInt)) n += 9;
  n += listSize(m.filteredAttributes, depth + 1, sKeyValue);
  return n;
}
function wExemplar(m: Msg): void {
  let v: unknown;
  if (hasLong(m, 'timeUnixNano', (v = m.timeUnixNano))) { out[wp++] = 0x11; wFixed64(v); }
  if (present(m, 'asDouble', (v = m.asDouble))) { out[wp++] = 0x19; wDouble(v); }
  if (hasBytes(m, 'spanId', (v = m.spanId))) { out[wp++] = 0x22; wBytes(v); }
  if (hasBytes(m, 'traceId', (v = m.traceId))) { out[wp++] = 0x2a; wBytes(v); }
  if (present(m, 'asInt', (v = m.asInt))) { out[wp++] = 0x31; wFixed64(v); }
  wList(0x3a, m.filteredAttributes, wKeyValue);
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
  if (hasLong(m, 'count', m.count)) n += 9;
  if (present(m, 'sum', m.sum)) n += 9;
  n += packed8Size(m.bucketCounts);
  n += packed8Size(m.explicitBounds);
  n += listSize(m.exemplars, depth + 1, sExemplar);
  n += listSize(m.attributes, depth + 1, sKeyValue);
  if (hasNum(m, 'flags', (v = m.flags))) n += 1 + varintLen((v as number) >>> 0);
  if (present(m, 'min', m.min)) n += 9;
  if (present(m, 'max', m.max)) n += 9;
  return n;
}
function wHistogramPoint(m: Msg): void {
  let v: unknown;
  wTimes(m);
  if (hasLong(m, 'count', (v = m.count))) { out[wp++] = 0x21; wFixed64(v); }
  if (present(m, 'sum', (v = m.sum))) { out[wp++] = 0x29; wDouble(v); }
  wPackedFixed64(0x32, m.bucketCounts);
  wPackedDouble(0x3a, m.explicitBounds);
  wList(0x42, m.exemplars, wExemplar);
  wList(0x4a, m.attributes, wKeyValue);
  if (hasNum(m, 'flags', (v = m.flags))) { out[wp++] = 0x50; wVarint((v as number) >>> 0); }
  if (present(m, 'min', (v = m.min))) { out[wp++] = 0x59; wDouble(v); }
  if (present(m, 'max', (v = m.max))) { out[wp++] = 0x61; wDouble(v); }
}

function sBuckets(m: Msg, depth: number): number {
  check(depth);
  let n = 0;
  const v = m.offset;
  if (hasNum(m, 'offset', v)) n += 1 + varintLen(zigzag(v as number));
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
  if (hasNum(m, 'offset', v)) { out[wp++] = 0x08; wVarint(zigzag(v as number)); }
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
  let n = listSize(m.attributes, depth + 1, sKeyValue) + sTimes(m);
  let v: unknown;
  if (hasLong(m, 'count', m.count)) n += 9;
  if (present(m, 'sum', m.sum)) n += 9;
  if (hasNum(m, 'scale', (v = m.scale))) n += 1 + varintLen(zigzag(v as number));
  if (hasLong(m, 'zeroCount', m.zeroCount)) n += 9;
  if (present(m, 'positive', (v = m.positive))) n += 1 + msgSize(v as Msg, depth + 1, sBuckets);
  if (present(m, 'negative', (v = m.negative))) n += 1 + msgSize(v as Msg, depth + 1, sBuckets);
  if (hasNum(m, 'flags', (v = m.flags))) n += 1 + varintLen((v as number) >>> 0);
  n += listSize(m.exemplars, depth + 1, sExemplar);
  if (present(m, 'min', m.min)) n += 9;
  if (present(m, 'max', m.max)) n += 9;
  if (hasDouble(m, 'zeroThreshold', m.zeroThreshold)) n += 9;
  return n;
}
function wExpPoint(m: Msg): void {
  let v: unknown;
  wList(0x0a, m.attributes, wKeyValue);
  wTimes(m);
  if (hasLong(m, 'count', (v = m.count))) { out[wp++] = 0x21; wFixed64(v); }
  if (present(m, 'sum', (v = m.sum))) { out[wp++] = 0x29; wDouble(v); }
  if (hasNum(m, 'scale', (v = m.scale))) { out[wp++] = 0x30; wVarint(zigzag(v as number)); }
  if (hasLong(m, 'zeroCount', (v = m.zeroCount))) { out[wp++] = 0x39; wFixed64(v); }
  if (present(m, 'positive', (v = m.positive))) { out[wp++] = 0x42; wMsg(v as Msg, wBuckets); }
  if (present(m, 'negative', (v = m.negative))) { out[wp++] = 0x4a; wMsg(v as Msg, wBuckets); }
  if (hasNum(m, 'flags', (v = m.flags))) { out[wp++] = 0x50; wVarint((v as number) >>> 0); }
  wList(0x5a, m.exemplars, wExemplar);
  if (present(m, 'min', (v = m.min))) { out[wp++] = 0x61; wDouble(v); }
  if (present(m, 'max', (v = m.max))) { out[wp++] = 0x69; wDouble(v); }
  if (hasDouble(m, 'zeroThreshold', (v = m.zeroThreshold))) { out[wp++] = 0x71; wDouble(v); }
}

function sSummaryPoint(m: Msg, depth: number): number {
  check(depth);
  let n = sTimes(m);
  let v: unknown;
  if (hasLong(m, 'count', m.count)) n += 9;
  if (hasDouble(m, 'sum', m.sum)) n += 9;
  n += listSize(m.quantileValues, depth + 1, sQuantile);
  n += listSize(m.attributes, depth + 1, sKeyValue);
  if (hasNum(m, 'flags', (v = m.flags))) n += 1 + varintLen((v as number) >>> 0);
  return n;
}
function wSummaryPoint(m: Msg): void {
  let v: unknown;
  wTimes(m);
  if (hasLong(m, 'count', (v = m.count))) { out[wp++] = 0x21; wFixed64(v); }
  if (hasDouble(m, 'sum', (v = m.sum))) { out[wp++] = 0x29; wDouble(v); }
  wList(0x32, m.quantileValues, wQuantile);
  wList(0x3a, m.attributes, wKeyValue);
  if (hasNum(m, 'flags', (v = m.flags))) { out[wp++] = 0x40; wVarint((v as number) >>> 0); }
}

function sQuantile(m: Msg, depth: number): number {
  check(depth);
  return (hasDouble(m, 'quantile', m.quantile) ? 9 : 0) + (hasDouble(m, 'value', m.value) ? 9 : 0);
}
function wQuantile(m: Msg): void {
  let v: unknown;
  if (hasDouble(m, 'quantile', (v = m.quantile))) { out[wp++] = 0x09; wDouble(v); }
  if (hasDouble(m, 'value', (v = m.value))) { out[wp++] = 0x11; wDouble(v); }
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
  if (hasLong(m, 'timeUnixNano', m.timeUnixNano)) n += 9;
  if (hasNum(m, 'severityNumber', (v = m.severityNumber))) n += 1 + int32Len(v as number);
  if (hasStr(m, 'severityText', (v = m.severityText))) n += 1 + strSize(v);
  if (present(m, 'body', (v = m.body))) n += 1 + msgSize(v as Msg, depth + 1, sAny);
  n += listSize(m.attributes, depth + 1, sKeyValue);
  if (hasNum(m, 'droppedAttributesCount', (v = m.droppedAttributesCount))) n += 1 + varintLen((v as number) >>> 0);
  if (hasNum(m, 'flags', m.flags)) n += 5;
  if (hasBytes(m, 'traceId', (v = m.traceId))) n += 1 + bytesSize(v);
  if (hasBytes(m, 'spanId', (v = m.spanId))) n += 1 + bytesSize(v);
  if (hasLong(m, 'observedTimeUnixNano', m.observedTimeUnixNano)) n += 9;
  if (hasStr(m, 'eventName', (v = m.eventName))) n += 1 + strSize(v);
  return n;
}
function wLogRecord(m: Msg): void {
  let v: unknown;
  if (hasLong(m, 'timeUnixNano', (v = m.timeUnixNano))) { out[wp++] = 0x09; wFixed64(v); }
  if (hasNum(m, 'severityNumber', (v = m.severityNumber))) { out[wp++] = 0x10; wInt32(v as number); }
  if (hasStr(m, 'severityText', (v = m.severityText))) { out[wp++] = 0x1a; wStr(v); }
  if (present(m, 'body', (v = m.body))) { out[wp++] = 0x2a; wMsg(v as Msg, wAny); }
  wList(0x32, m.attributes, wKeyValue);
  if (hasNum(m, 'droppedAttributesCount', (v = m.droppedAttributesCount))) { out[wp++] = 0x38; wVarint((v as number) >>> 0); }
  if (hasNum(m, 'flags', (v = m.flags))) { out[wp++] = 0x45; wFixed32(v as number); }
  if (hasBytes(m, 'traceId', (v = m.traceId))) { out[wp++] = 0x4a; wBytes(v); }
  if (hasBytes(m, 'spanId', (v = m.spanId))) { out[wp++] = 0x52; wBytes(v); }
  if (hasLong(m, 'observedTimeUnixNano', (v = m.observedTimeUnixNano))) { out[wp++] = 0x59; wFixed64(v); }
  if (hasStr(m, 'eventName', (v = m.eventName))) { out[wp++] = 0x62; wStr(v); }
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
