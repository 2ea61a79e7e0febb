// TypeScript side of bpf/sonde.h: sizes and offsets of each record struct, and decoders.
// test/integration/ebpf-layout.test.ts checks these against the C compiler and the BPF object's
// BTF, so the two sides cannot drift.

export type FieldType = 'u32' | 's32' | 'u64' | 's64' | 'char[16]';

export interface FieldLayout {
  offset: number;
  type: FieldType;
}

export interface RecordLayout {
  /** the C struct name */
  struct: string;
  size: number;
  fields: Readonly<Record<string, FieldLayout>>;
}

export const WRITE_EVENT = {
  struct: 'sonde_write_event',
  size: 32,
  fields: {
    ts_ns: { offset: 0, type: 'u64' },
    pid: { offset: 8, type: 'u32' },
    tid: { offset: 12, type: 'u32' },
    count: { offset: 16, type: 'u64' },
    fd: { offset: 24, type: 's32' },
    cpu: { offset: 28, type: 'u32' },
  },
} as const satisfies RecordLayout;

export const LATENCY_EVENT = {
  struct: 'sonde_latency_event',
  size: 32,
  fields: {
    start_ns: { offset: 0, type: 'u64' },
    duration_ns: { offset: 8, type: 'u64' },
    pid: { offset: 16, type: 'u32' },
    tid: { offset: 20, type: 'u32' },
    retval: { offset: 24, type: 's64' },
  },
} as const satisfies RecordLayout;

export const SAMPLE_EVENT = {
  struct: 'sonde_sample_event',
  size: 48,
  fields: {
    ts_ns: { offset: 0, type: 'u64' },
    pid: { offset: 8, type: 'u32' },
    tid: { offset: 12, type: 'u32' },
    cpu: { offset: 16, type: 'u32' },
    user_stack_id: { offset: 20, type: 's32' },
    kernel_stack_id: { offset: 24, type: 's32' },
    _pad0: { offset: 28, type: 'u32' },
    comm: { offset: 32, type: 'char[16]' },
  },
} as const satisfies RecordLayout;

export const RECORD_LAYOUTS: readonly RecordLayout[] = [WRITE_EVENT, LATENCY_EVENT, SAMPLE_EVENT];

export interface WriteEvent {
  tsNs: bigint;
  pid: number;
  tid: number;
  count: bigint;
  fd: number;
  cpu: number;
}

export interface LatencyEvent {
  startNs: bigint;
  durationNs: bigint;
  pid: number;
  tid: number;
  retval: bigint;
}

export interface SampleEvent {
  tsNs: bigint;
  pid: number;
  tid: number;
  cpu: number;
  userStackId: number;
  kernelStackId: number;
  comm: string;
}

function cString(b: Buffer, start: number, len: number): string {
  const end = b.indexOf(0, start);
  return b.toString('utf8', start, end < 0 || end > start + len ? start + len : end);
}

/** Calls fn with the byte offset of each fixed-size record in a batch (no per-record objects). */
export function forEachRecord(batch: Buffer, size: number, fn: (offset: number) => void): number {
  const n = Math.floor(batch.length / size);
  for (let i = 0, off = 0; i < n; i++, off += size) fn(off);
  return n;
}

const W = WRITE_EVENT.fields;
export function decodeWriteEvent(b: Buffer, o = 0): WriteEvent {
  return {
    tsNs: b.readBigUInt64LE(o + W.ts_ns.offset),
    pid: b.readUInt32LE(o + W.pid.offset),
    tid: b.readUInt32LE(o + W.tid.offset),
    count: b.readBigUInt64LE(o + W.count.offset),
    fd: b.readInt32LE(o + W.fd.offset),
    cpu: b.readUInt32LE(o + W.cpu.offset),
  };
}

const L = LATENCY_EVENT.fields;
export function decodeLatencyEvent(b: Buffer, o = 0): LatencyEvent {
  return {
    startNs: b.readBigUInt64LE(o + L.start_ns.offset),
    durationNs: b.readBigUInt64LE(o + L.duration_ns.offset),
    pid: b.readUInt32LE(o + L.pid.offset),
    tid: b.readUInt32LE(o + L.tid.offset),
    retval: b.readBigInt64LE(o + L.retval.offset),
  };
}

const S = SAMPLE_EVENT.fields;
export function decodeSampleEvent(b: Buffer, o = 0): SampleEvent {
  return {
    tsNs: b.readBigUInt64LE(o + S.ts_ns.offset),
    pid: b.readUInt32LE(o + S.pid.offset),
    tid: b.readUInt32LE(o + S.tid.offset),
    cpu: b.readUInt32LE(o + S.cpu.offset),
    userStackId: b.readInt32LE(o + S.user_stack_id.offset),
    kernelStackId: b.readInt32LE(o + S.kernel_stack_id.offset),
    comm: cString(b, o + S.comm.offset, 16),
  };
}

/** Decodes every fixed-size record of a batch (tests and tools; hot paths use forEachRecord). */
export function decodeAll<T>(batch: Buffer, size: number, decode: (b: Buffer, o: number) => T): T[] {
  const out: T[] = [];
  forEachRecord(batch, size, (o) => out.push(decode(batch, o)));
  return out;
}
