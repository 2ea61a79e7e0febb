// TypeScript side of bpf/http_capture.h: the record layout (checked against the C compiler and
// the object's BTF by test/integration/ebpf-http-layout.test.ts) and a decoder that reads one
// length-framed record of a ring buffer batch.

export type HttpFieldType = 'u8' | 'u16' | 'u32' | 's32' | 'u64' | 'u8[16]';

export const HTTP_CAPTURE_MAX = 4096;
export const HTTP_TAIL_LEN = 16;

/** Offsets of struct http_capture_event (data[] starts at HEADER_SIZE). */
export const HTTP_EVENT = {
  struct: 'http_capture_event',
  headerSize: 120,
  size: 120 + HTTP_CAPTURE_MAX,
  fields: {
    ts_ns: { offset: 0, type: 'u64' },
    conn_id: { offset: 8, type: 'u64' },
    total: { offset: 16, type: 'u64' },
    tgid: { offset: 24, type: 'u32' },
    tid: { offset: 28, type: 'u32' },
    fd: { offset: 32, type: 's32' },
    captured: { offset: 36, type: 'u32' },
    laddr: { offset: 40, type: 'u8[16]' },
    raddr: { offset: 56, type: 'u8[16]' },
    lport: { offset: 72, type: 'u16' },
    rport: { offset: 74, type: 'u16' },
    kind: { offset: 76, type: 'u8' },
    direction: { offset: 77, type: 'u8' },
    role: { offset: 78, type: 'u8' },
    flags: { offset: 79, type: 'u8' },
    tail_len: { offset: 80, type: 'u32' },
    syscall: { offset: 84, type: 'u32' },
    tail: { offset: 88, type: 'u8[16]' },
    comm: { offset: 104, type: 'u8[16]' },
  },
} as const;

export enum EventKind { DATA = 1, CLOSE = 2, EXEC = 3 }
export enum Direction { RECV = 0, SEND = 1 }
export enum Role { UNKNOWN = 0, SERVER = 1, CLIENT = 2 }
export const CONN_MIDSTREAM = 1;
/** plaintext of a TLS connection (SSL uprobes) */
export const CONN_TLS = 2;
/** a TLS connection whose socket (addresses) is not known yet */
export const CONN_NO_TUPLE = 4;
/** records of this connection were lost (ring buffer full) before this one */
export const CONN_LOST = 8;

/** Indexes of the kernel's per-CPU counters (enum http_counter). */
export const KERNEL_COUNTERS = {
  events: 0, conns: 1, conn_map_full: 2, args_map_full: 3, port_filtered: 4, tls_conns: 5, tls_no_socket: 6, tls_calls_map_full: 7,
} as const;

export interface HttpEvent {
  /** kernel time (bpf_ktime_get_ns) as a double: exact below 2^53 ns (104 days of uptime),
   * within a few ns after, which no span duration notices; no BigInt per record */
  tsNs: number;
  connId: bigint;
  /** connId as a number, when the decoder has it without a BigInt (ids count up from 1) */
  connKey?: number;
  total: number;
  tgid: number;
  tid: number;
  fd: number;
  kind: EventKind;
  direction: Direction;
  role: Role;
  flags: number;
  laddr: string;
  raddr: string;
  lport: number;
  rport: number;
  /** the thread's name: in a connection's first data record only ('' in the others) */
  comm: string;
  /** the first bytes of the syscall's data are bytes[dataStart, dataStart + captured): the
   * batch itself, not a copy (read during the call only; copy to keep) */
  bytes: Buffer;
  dataStart: number;
  captured: number;
  /** its last bytes, when the captured ones do not reach them */
  tail: Buffer;
}

/** A record's captured bytes as their own view (for the rare paths that keep or search them). */
export function dataOf(e: HttpEvent): Buffer {
  return e.bytes.subarray(e.dataStart, e.dataStart + e.captured);
}

/** "::ffff:a.b.c.d" -> "a.b.c.d"; other IPv6 addresses in the usual compressed form. */
export function formatAddress(b: Buffer, o: number): string {
  let mapped = b.readUInt32BE(o) === 0 && b.readUInt32BE(o + 4) === 0 && b.readUInt16BE(o + 8) === 0 && b.readUInt16BE(o + 10) === 0xffff;
  if (mapped) return `${b[o + 12]}.${b[o + 13]}.${b[o + 14]}.${b[o + 15]}`;
  mapped = false;
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(o + i * 2).toString(16));
  // compress the longest run of zero groups
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

const F = HTTP_EVENT.fields;

function cString(b: Buffer, start: number, len: number): string {
  const end = b.indexOf(0, start);
  return b.toString('utf8', start, end < 0 || end > start + len ? start + len : end);
}

const EMPTY = Buffer.alloc(0);

// Little-endian reads by bytes: Buffer's readUInt32LE validates its arguments on every call.
const u32 = (b: Buffer, o: number): number => ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16)) + (b[o + 3] as number) * 0x1000000;
const u16 = (b: Buffer, o: number): number => (b[o] as number) | ((b[o + 1] as number) << 8);
// field offsets as plain constants: the per-record reads need no property loads
const O_CONN_ID: number = F.conn_id.offset;
const O_DIRECTION: number = F.direction.offset;
const O_FD: number = F.fd.offset;
const O_FLAGS: number = F.flags.offset;
const O_KIND: number = F.kind.offset;
const O_LPORT: number = F.lport.offset;
const O_ROLE: number = F.role.offset;
const O_RPORT: number = F.rport.offset;
const O_TGID: number = F.tgid.offset;
const O_TID: number = F.tid.offset;
const O_TOTAL: number = F.total.offset;
const O_TS_NS: number = F.ts_ns.offset;
const HEADER: number = HTTP_EVENT.headerSize;

/** A record read in place: the fields the tracker needs per record are read at once, the
 * addresses, the thread name and the tail only when asked for (once per connection). One
 * instance is reloaded for each record of a batch (no object per record). */
class HttpRecord implements HttpEvent {
  tsNs = 0;
  connKey = 0;
  total = 0;
  tgid = 0;
  tid = 0;
  fd = 0;
  kind: EventKind = EventKind.DATA;
  direction: Direction = Direction.RECV;
  role: Role = Role.UNKNOWN;
  flags = 0;
  lport = 0;
  rport = 0;
  bytes: Buffer = EMPTY;
  dataStart = 0;
  captured = 0;
  private b: Buffer = EMPTY;
  private o = 0;

  load(b: Buffer, o: number, captured: number): this {
    this.b = b;
    this.o = o;
    this.tsNs = u32(b, o + O_TS_NS + 4) * 0x100000000 + u32(b, o + O_TS_NS);
    // an id and a byte count as two u32s: no BigInt, exact below 2^53
    this.connKey = u32(b, o + O_CONN_ID) + u32(b, o + O_CONN_ID + 4) * 0x100000000;
    this.total = u32(b, o + O_TOTAL) + u32(b, o + O_TOTAL + 4) * 0x100000000;
    this.tgid = u32(b, o + O_TGID);
    this.tid = u32(b, o + O_TID);
    this.fd = u32(b, o + O_FD) | 0;
    this.kind = b[o + O_KIND] as EventKind;
    this.direction = b[o + O_DIRECTION] as Direction;
    this.role = b[o + O_ROLE] as Role;
    this.flags = b[o + O_FLAGS] as number;
    this.lport = u16(b, o + O_LPORT);
    this.rport = u16(b, o + O_RPORT);
    this.bytes = b;
    this.dataStart = o + HEADER;
    this.captured = captured;
    return this;
  }

  get connId(): bigint { return this.b.readBigUInt64LE(this.o + F.conn_id.offset); }
  get laddr(): string { return formatAddress(this.b, this.o + F.laddr.offset); }
  get raddr(): string { return formatAddress(this.b, this.o + F.raddr.offset); }
  get comm(): string { return cString(this.b, this.o + F.comm.offset, 16); }
  get tail(): Buffer {
    const tailLen = Math.min(this.b.readUInt32LE(this.o + F.tail_len.offset), HTTP_TAIL_LEN);
    return this.b.subarray(this.o + F.tail.offset, this.o + F.tail.offset + tailLen);
  }
}

/** The captured byte count of the record at [o, o + len), or -1 when the record is malformed
 * (shorter than its header, or than the bytes it says it carries). */
function capturedOf(b: Buffer, o: number, len: number): number {
  if (len < HEADER) return -1;
  const captured = u32(b, o + F.captured.offset);
  return HEADER + captured > len ? -1 : captured;
}

/** Decodes the record at [o, o + len) of a batch; undefined when it is malformed. */
export function decodeHttpEvent(b: Buffer, o: number, len: number): HttpEvent | undefined {
  const captured = capturedOf(b, o, len);
  return captured < 0 ? undefined : new HttpRecord().load(b, o, captured);
}

/** Where each record of the walk is (buffer, offset, length), its captured length and time, and
 * the order to visit them in: reused from walk to walk. */
let sources = new Uint8Array(4096);
let offsets = new Int32Array(4096);
let lengths = new Int32Array(4096);
let captures = new Int32Array(4096);
let times = new Float64Array(4096);
let order = new Int32Array(4096);

/**
 * Visits u32-length-framed records in kernel-time order. The ring holds records in the order
 * they were sent, and a send is sent at its syscall's exit but timed at its entry: a client whose
 * reader thread records the response before its writer thread's exit records the request would
 * show the answer first. Within a batch a sort fixes that; across batches, records newer than
 * the newest one's time minus `holdNs` wait for the next batch (or tick), so a send still in its
 * syscall when one batch was taken is put before the receive it caused.
 */
export class TimeOrderedRecords {
  /** records held back from the last walk (framed like a batch) */
  private held: Buffer = EMPTY;

  constructor(private readonly holdNs: number) {}

  /** Visits the held records and `batch`'s up to `untilNs` (the newest time minus holdNs when
   * not given; Infinity for all), holding back the rest; returns how many were malformed. The
   * record passed to fn is valid during the call only. */
  visit(batch: Buffer, fn: (e: HttpEvent) => void, untilNs?: number): number {
    const held = this.held;
    this.held = EMPTY;
    const buffers = [held, batch];
    const before = indexRecords(held, 0, 0);
    const all = indexRecords(batch, 1, before.n);
    const n = all.n;
    sortByTime(n);
    const newest = n > 0 ? (times[order[n - 1] as number] as number) : -Infinity;
    const until = untilNs ?? newest - this.holdNs;
    const rec = new HttpRecord();
    let i = 0;
    for (; i < n; i++) {
      const r = order[i] as number;
      if ((times[r] as number) > until) break;
      fn(rec.load(buffers[sources[r] as number] as Buffer, offsets[r] as number, captures[r] as number));
    }
    if (i < n) this.held = frame(buffers, i, n);
    return before.bad + all.bad;
  }

  /** Bytes held for the next walk. */
  get heldBytes(): number {
    return this.held.length;
  }
}

/**
 * Calls fn for each record of a u32-length-framed batch, in kernel-time order (nothing held
 * back); returns how many were malformed. The record passed to fn is valid during the call only.
 */
export function forEachHttpEvent(batch: Buffer, fn: (e: HttpEvent) => void): number {
  return new TimeOrderedRecords(0).visit(batch, fn, Infinity);
}

/** Indexes the records of a framed buffer from entry n on: the new count, and how many
 * records were malformed. */
function indexRecords(buf: Buffer, source: number, n: number): { n: number; bad: number } {
  let bad = 0;
  for (let o = 0; o + 4 <= buf.length;) {
    const len = u32(buf, o);
    o += 4;
    if (o + len > buf.length) {
      bad++;
      break;
    }
    const captured = capturedOf(buf, o, len);
    if (captured < 0) {
      bad++;
    } else {
      if (n === offsets.length) grow();
      sources[n] = source;
      offsets[n] = o;
      lengths[n] = len;
      captures[n] = captured;
      times[n] = u32(buf, o + O_TS_NS + 4) * 0x100000000 + u32(buf, o + O_TS_NS);
      order[n] = n;
      n++;
    }
    o += len;
  }
  return { n, bad };
}

/** Orders order[0, n) by time, stably: the ring is almost in time order (a send is late by its
 * own syscall), so an insertion sort does few moves; a full sort when it would do too many. */
function sortByTime(n: number): void {
  let ordered = true;
  for (let i = 1; i < n && ordered; i++) if ((times[i] as number) < (times[i - 1] as number)) ordered = false;
  if (ordered || insertionSort(n, 8 * n)) return;
  const sorted = Array.from(order.subarray(0, n)).sort((a, b) => (times[a] as number) - (times[b] as number) || a - b);
  order.set(sorted);
}

/** The records order[from, to) framed into one buffer, in that order. */
function frame(buffers: Buffer[], from: number, to: number): Buffer {
  let size = 0;
  for (let i = from; i < to; i++) size += 4 + (lengths[order[i] as number] as number);
  const out = Buffer.allocUnsafe(size);
  let w = 0;
  for (let i = from; i < to; i++) {
    const r = order[i] as number;
    const len = lengths[r] as number;
    out.writeUInt32LE(len, w);
    (buffers[sources[r] as number] as Buffer).copy(out, w + 4, offsets[r] as number, (offsets[r] as number) + len);
    w += 4 + len;
  }
  return out;
}

/** Sorts order[0, n) by time, stably, unless that takes more than `budget` moves (then false,
 * order still a permutation). */
function insertionSort(n: number, budget: number): boolean {
  for (let i = 1; i < n; i++) {
    const r = order[i] as number;
    const t = times[r] as number;
    let j = i - 1;
    while (j >= 0 && (times[order[j] as number] as number) > t) {
      order[j + 1] = order[j] as number;
      j--;
      if (--budget < 0) {
        order[j + 1] = r;
        return false;
      }
    }
    order[j + 1] = r;
  }
  return true;
}

function grow(): void {
  const size = offsets.length * 2;
  const widen = <T extends Uint8Array | Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
    const w = make(size);
    w.set(a);
    return w;
  };
  sources = widen(sources, (k) => new Uint8Array(k));
  offsets = widen(offsets, (k) => new Int32Array(k));
  lengths = widen(lengths, (k) => new Int32Array(k));
  captures = widen(captures, (k) => new Int32Array(k));
  times = widen(times, (k) => new Float64Array(k));
  order = widen(order, (k) => new Int32Array(k));
}
