// Shared pieces of the hand-written OTLP protobuf codec (fast-decode.ts, fast-encode.ts): the
// protobufjs message constructors whose prototypes decoded objects must share (consumers and the
// JSON decoder rely on the same classes and prototype defaults), and small value helpers.
import Long from 'long';
import * as protobuf from 'protobufjs';
import { otlpType } from './schema';

/** A decoded message as the decoders build it: fields are set by name. */
export type Msg = Record<string, unknown>;
export type MsgCtor = new () => Msg;

/** protobufjs' generated constructor: own empty arrays for repeated fields, defaults on the prototype. */
export function ctorOf(fullName: string): MsgCtor {
  return otlpType(fullName).ctor as unknown as MsgCtor;
}

/** protoc's and protobufjs' nesting limit: a message at depth > 100 is rejected. */
export const MAX_DEPTH = 100;

/** An error inside the wire walk: the codec turns it into a PermanentError with a path. */
export class WireError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

// Small non-negative int64 values (ports, status codes, sizes) are common attribute values: share
// one Long per value instead of allocating one per occurrence. Longs are immutable by contract.
const SMALL_LONGS: (Long | undefined)[] = new Array<Long | undefined>(65536);

export function signedLong(lo: number, hi: number): Long {
  if (hi === 0 && lo < 65536) {
    let l = SMALL_LONGS[lo];
    if (l === undefined) SMALL_LONGS[lo] = l = new Long(lo, 0, false);
    return l;
  }
  return new Long(lo, hi, false);
}

/**
 * Where in a message a byte offset lies, as a field path (`resourceSpans[0].scopeSpans[0].spans[3].name`),
 * found by walking the wire format with the schema's reflection. Only runs after a decode failed,
 * so it may be slow; it never throws and stops at whatever it cannot walk.
 */
export function locate(root: protobuf.Type, bytes: Uint8Array, offset: number): string {
  let type: protobuf.Type = root;
  let p = 0;
  let end = bytes.length;
  let path = '';
  const counts = new Map<string, number>();
  const varint = (): number => {
    let v = 0;
    for (let i = 0; i < 10; i++) {
      if (p >= end) return -1;
      const b = bytes[p++]!;
      if (i < 5) v += (b & 0x7f) * 2 ** (7 * i);
      if (b < 0x80) return v;
    }
    return -1;
  };
  for (let depth = 0; depth <= MAX_DEPTH + 1; depth++) {
    counts.clear();
    let descended = false;
    while (p < end) {
      const tag = varint();
      if (tag < 0) return path;
      const f = type.fieldsById[Math.floor(tag / 8)];
      const name = f ? f.name : `<field ${Math.floor(tag / 8)}>`;
      let seg = path ? `${path}.${name}` : name;
      if (f?.repeated) {
        const i = counts.get(name) ?? 0;
        counts.set(name, i + 1);
        seg += `[${i}]`;
      }
      let fieldEnd: number;
      let contentStart = p;
      switch (tag & 7) {
        case 0: if (varint() < 0) return seg; fieldEnd = p; break;
        case 1: fieldEnd = p + 8; break;
        case 5: fieldEnd = p + 4; break;
        case 2: {
          const n = varint();
          if (n < 0) return seg;
          contentStart = p;
          fieldEnd = p + n;
          break;
        }
        default: return seg;
      }
      if (offset < fieldEnd || fieldEnd > end) {
        const sub = f?.resolvedType;
        if ((tag & 7) === 2 && sub instanceof protobuf.Type) {
          type = sub;
          path = seg;
          p = contentStart;
          end = Math.min(fieldEnd, end);
          descended = true;
          break;
        }
        return seg;
      }
      p = fieldEnd;
    }
    if (!descended) return path;
  }
  return path;
}
