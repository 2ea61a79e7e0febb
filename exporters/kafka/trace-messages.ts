// Keyed trace messages (partition_traces_by_id / _by_connection, otlp_proto) without a pdata
// object per message. Keyed by trace id, a batch is about one message per span, so the generic
// way (a TracesData per key, each encoded with its resource and scope again) costs a request's
// worth of work per span. Here the batch is encoded once in pieces (every span, and every
// resource and scope field once) and each message is assembled by copying: the bytes are the
// ones the generic way writes (test/unit/kafka-messages.test.ts compares them), and a message
// over the limit is halved by span count exactly as splitAt would.
import { PermanentError, errorMessage } from '../../pipeline/errors';
import type { OutgoingMessage } from '../../pipeline/kafka/client';
import { encodeTracesPieces, type TracesPieces } from '../../pipeline/otlp/fast-encode';
import type { Msg } from '../../pipeline/otlp/fast-wire';
import type { Span, TracesData } from '../../pipeline/pdata';
import { connectionKey, traceKey } from './partition';

export interface TraceMessages { messages: OutgoingMessage[]; oversize: number }

function varintLen(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** One message per key, each split (halving its spans) until key + value fit maxBytes. */
export function keyedTraceMessages(data: TracesData, maxBytes: number, byId: boolean, byConnection: boolean): TraceMessages {
  let p: TracesPieces;
  try {
    p = encodeTracesPieces(data as unknown as Msg);
  } catch (err) {
    throw new PermanentError(`cannot encode OTLP traces request: ${errorMessage(err)}`, { cause: err });
  }
  const nSpans = p.spanScope.length;
  // Spans grouped by key, in order of the key's first appearance, each group in batch order.
  const keys: (string | null)[] = [];
  const partOf = new Map<string | null, number>();
  const spanPart = new Int32Array(nSpans);
  const counts: number[] = [];
  let s = 0;
  for (const rs of data.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      const l: Span[] = ss.spans;
      for (let k = 0; k < l.length; k++, s++) {
        const span = l[k]!;
        const key = (byConnection ? connectionKey(span) : undefined) ?? (byId ? traceKey(span) : null);
        let part = partOf.get(key);
        if (part === undefined) {
          part = keys.length;
          partOf.set(key, part);
          keys.push(key);
          counts.push(0);
        }
        spanPart[s] = part;
        counts[part]!++;
      }
    }
  }
  const order = new Int32Array(nSpans);
  const starts = new Int32Array(keys.length + 1);
  for (let i = 0; i < keys.length; i++) starts[i + 1] = starts[i]! + counts[i]!;
  const fill = starts.slice(0, keys.length);
  for (let i = 0; i < nSpans; i++) order[fill[spanPart[i]!]!++] = i;

  // Pass 1: which span ranges of `order` become messages, and their sizes.
  const ranges: number[] = []; // from, to, size, part per message
  let total = 0;
  let oversize = 0;
  const keyBytes = keys.map((k) => (k === null ? 0 : Buffer.byteLength(k, 'utf8')));
  const fit = (from: number, to: number, part: number): void => {
    const size = sizeOf(p, order, from, to);
    if (size + keyBytes[part]! <= maxBytes) {
      ranges.push(from, to, size, part);
      total += size;
      return;
    }
    if (to - from === 1) {
      oversize++;
      return;
    }
    const half = from + Math.floor((to - from) / 2);
    fit(from, half, part);
    fit(half, to, part);
  };
  for (let i = 0; i < keys.length; i++) fit(starts[i]!, starts[i + 1]!, i);

  // Pass 2: one Buffer for every key and value of the batch; messages are views of it.
  let keyTotal = 0;
  for (let i = 0; i < keys.length; i++) keyTotal += keyBytes[i]!;
  const arena = Buffer.allocUnsafe(total + keyTotal);
  const keyBufs: (Buffer | null)[] = new Array<Buffer | null>(keys.length);
  let at = total;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k === null) { keyBufs[i] = null; continue; }
    const n = arena.write(k, at, 'utf8');
    keyBufs[i] = arena.subarray(at, at + n);
    at += n;
  }
  const messages: OutgoingMessage[] = new Array<OutgoingMessage>(ranges.length / 4);
  at = 0;
  for (let m = 0; m < ranges.length; m += 4) {
    const end = write(p, order, ranges[m]!, ranges[m + 1]!, arena, at);
    messages[m / 4] = { key: keyBufs[ranges[m + 3]!]!, value: arena.subarray(at, end) };
    at = end;
  }
  return { messages, oversize };
}

/** Where the entry measured last by scopeBody or resourceBody ends in `order`. */
let entryEnd = 0;

/** Body bytes of the scope entry that holds order[from] and the spans after it in the same scope
 * (up to `to`); entryEnd is set past them. */
function scopeBody(p: TracesPieces, order: Int32Array, from: number, to: number): number {
  const { scopes, spans, spanScope } = p;
  const c = spanScope[order[from]!]!;
  let body = scopes[4 * c + 1]! - scopes[4 * c]! + scopes[4 * c + 3]! - scopes[4 * c + 2]!;
  let i = from;
  while (i < to && spanScope[order[i]!] === c) {
    const x = order[i++]!;
    body += spans[2 * x + 1]! - spans[2 * x]!;
  }
  entryEnd = i;
  return body;
}

/** Body bytes of the resource entry that holds order[from] and the spans after it in the same
 * resource (up to `to`), their scope entries included; entryEnd is set past them. */
function resourceBody(p: TracesPieces, order: Int32Array, from: number, to: number): number {
  const { resources, scopeResource, spanScope } = p;
  const r = scopeResource[spanScope[order[from]!]!]!;
  let body = resources[4 * r + 1]! - resources[4 * r]! + resources[4 * r + 3]! - resources[4 * r + 2]!;
  let i = from;
  while (i < to && scopeResource[spanScope[order[i]!]!] === r) {
    const ss = scopeBody(p, order, i, to);
    body += 1 + varintLen(ss) + ss;
    i = entryEnd;
  }
  entryEnd = i;
  return body;
}

/** Bytes of the request holding spans order[from..to), grouped into resource and scope entries. */
function sizeOf(p: TracesPieces, order: Int32Array, from: number, to: number): number {
  let total = 0;
  for (let i = from; i < to; i = entryEnd) {
    const rs = resourceBody(p, order, i, to);
    total += 1 + varintLen(rs) + rs;
  }
  return total;
}

/** Writes the request for spans order[from..to) at `at`; returns where it ends. */
function write(p: TracesPieces, order: Int32Array, from: number, to: number, dst: Buffer, at: number): number {
  const { bytes, resources, scopes, spans, scopeResource, spanScope } = p;
  let i = from;
  while (i < to) {
    const r = scopeResource[spanScope[order[i]!]!]!;
    // The resource entry's length first (the sizes of its scope entries), then their bytes.
    const rsBody = resourceBody(p, order, i, to);
    const end = entryEnd;
    dst[at++] = 0x0a;
    at = varint(dst, at, rsBody);
    at = copy(bytes, resources[4 * r]!, resources[4 * r + 1]!, dst, at);
    while (i < end) {
      const c = spanScope[order[i]!]!;
      const ssBody = scopeBody(p, order, i, end);
      const j = entryEnd;
      dst[at++] = 0x12;
      at = varint(dst, at, ssBody);
      at = copy(bytes, scopes[4 * c]!, scopes[4 * c + 1]!, dst, at);
      for (; i < j; i++) {
        const x = order[i]!;
        at = copy(bytes, spans[2 * x]!, spans[2 * x + 1]!, dst, at);
      }
      at = copy(bytes, scopes[4 * c + 2]!, scopes[4 * c + 3]!, dst, at);
    }
    at = copy(bytes, resources[4 * r + 2]!, resources[4 * r + 3]!, dst, at);
  }
  return at;
}

function varint(dst: Buffer, at: number, v: number): number {
  while (v > 127) {
    dst[at++] = (v & 127) | 128;
    v >>>= 7;
  }
  dst[at++] = v;
  return at;
}

/** Short pieces in a loop: below a few dozen bytes that beats the native copy's call. */
function copy(src: Buffer, from: number, to: number, dst: Buffer, at: number): number {
  const n = to - from;
  if (n < 48) {
    for (let k = 0; k < n; k++) dst[at + k] = src[from + k]!;
  } else {
    src.copy(dst, at, from, to);
  }
  return at + n;
}
