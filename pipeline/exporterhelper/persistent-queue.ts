// The persistent sending queue: append-only segment files of framed records, one directory per
// exporter id and signal.
//
//   <n>.seg   records: magic "SQR1" | length u32 LE | crc32(length bytes + payload) u32 LE | payload
//             (payload = the OTLP export request, protobuf)
//   <n>.ack   the u32 LE offsets of the records of <n>.seg that were sent or dropped
//
// A batch is written (and with fsync, fdatasync'ed) before offer() returns, so what an exporter
// accepted survives SIGKILL. A record is acked once it was sent or dropped; a segment is deleted
// when it is no longer written to and every record in it is acked. At start every segment is
// scanned: a record whose framing or checksum is wrong is skipped (counted, never fatal) and the
// scan resumes at the next magic; unacked records are queued again in order. At-least-once: a
// record sent but not yet acked when the process died is sent again (at most num_consumers
// batches, the ones in flight). I/O is synchronous: records are small and local, and it keeps
// the order of writes and acks obvious.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { BatchQueue, Taken } from './memory-queue';
import type { QueueLocation } from './storage';

const MAGIC = Buffer.from('SQR1');
const HEADER = 12;
/** A segment is closed for writing past this size; a larger batch gets a segment of its own. */
export const SEGMENT_BYTES = 8 * 1024 * 1024;

interface Segment {
  id: number;
  fd: number;
  ackFd: number | undefined;
  size: number;
  records: number;
  acked: number;
  /** No longer written to: deleted once every record is acked. */
  sealed: boolean;
}

interface Ref { seg: Segment; offset: number; length: number }

/** What the start-up scan found. */
export interface ScanReport {
  /** Records queued again (sent or not, their ack was missing). */
  recovered: number;
  /** Damaged regions skipped: bad framing, checksum mismatch, truncated tail. */
  corruptRecords: number;
  skippedBytes: number;
}

export class PersistentQueue implements BatchQueue<Buffer> {
  private readonly segments = new Map<number, Segment>();
  private pending: Ref[] = [];
  private head = 0;
  private writing: Segment | undefined;
  private nextId = 1;
  private closed = false;
  private readonly takers: ((t: Taken<Buffer> | undefined) => void)[] = [];
  private spaceWaiters: (() => void)[] = [];

  private constructor(private readonly loc: QueueLocation, readonly capacity: number) {}

  /** Opens (creating) the queue directory and scans what a previous run left. */
  static open(loc: QueueLocation, capacity: number): { queue: PersistentQueue; report: ScanReport } {
    fs.mkdirSync(loc.directory, { recursive: true });
    const q = new PersistentQueue(loc, capacity);
    return { queue: q, report: q.recover() };
  }

  get size(): number { return this.pending.length - this.head; }

  offer(payload: Buffer): 'ok' | 'full' | 'disk_full' {
    if (this.closed || this.size >= this.capacity) return 'full';
    const length = HEADER + payload.length;
    if (!this.loc.budget.tryReserve(length)) return 'disk_full';
    const seg = this.segmentFor(length);
    const header = Buffer.allocUnsafe(HEADER);
    MAGIC.copy(header, 0);
    header.writeUInt32LE(payload.length, 4);
    header.writeUInt32LE(zlib.crc32(payload, zlib.crc32(header.subarray(4, 8))), 8);
    try {
      fs.writevSync(seg.fd, [header, payload], seg.size);
      if (this.loc.fsync) fs.fdatasyncSync(seg.fd);
    } catch (err) {
      this.loc.budget.release(length);
      throw err;
    }
    const ref: Ref = { seg, offset: seg.size, length: payload.length };
    seg.size += length;
    seg.records++;
    const taker = this.takers.shift();
    if (taker) taker(this.read(ref));
    else this.pending.push(ref);
    return 'ok';
  }

  take(): Promise<Taken<Buffer> | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    if (this.size > 0) return Promise.resolve(this.read(this.shift()));
    return new Promise((resolve) => this.takers.push(resolve));
  }

  spaceAvailable(): Promise<void> {
    if (this.closed || this.size < this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /** Records never leave the disk on close: what was not acked is sent after the next start. */
  close(): void {
    this.closed = true;
    for (const t of this.takers.splice(0)) t(undefined);
    this.wakeSpace();
  }

  remaining(): Buffer[] { return []; }

  /** Closes the files (after close() and once no taken record can still be acked). */
  dispose(): void {
    for (const seg of this.segments.values()) closeSegment(seg);
    this.segments.clear();
  }

  // ---- writing ---------------------------------------------------------------------------------

  private segmentFor(length: number): Segment {
    const cur = this.writing;
    if (cur && (cur.size === 0 || cur.size + length <= SEGMENT_BYTES)) return cur;
    if (cur) {
      cur.sealed = true;
      this.deleteIfDone(cur);
    }
    const id = this.nextId++;
    const seg: Segment = { id, fd: fs.openSync(this.file(id, 'seg'), 'wx+'), ackFd: undefined, size: 0, records: 0, acked: 0, sealed: false };
    if (this.loc.fsync) syncDirectory(this.loc.directory); // the new file's name survives a crash too
    this.segments.set(id, seg);
    this.writing = seg;
    return seg;
  }

  private ack(ref: Ref): void {
    const seg = ref.seg;
    if (!this.segments.has(seg.id)) return;
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(ref.offset, 0);
    seg.ackFd ??= fs.openSync(this.file(seg.id, 'ack'), 'a');
    fs.writeSync(seg.ackFd, b);
    seg.acked++;
    this.deleteIfDone(seg);
  }

  private deleteIfDone(seg: Segment): void {
    if (!seg.sealed || seg.acked < seg.records) return;
    closeSegment(seg);
    // The data first: an ack file without its segment is ignored at the next start.
    fs.rmSync(this.file(seg.id, 'seg'), { force: true });
    fs.rmSync(this.file(seg.id, 'ack'), { force: true });
    this.segments.delete(seg.id);
    this.loc.budget.release(seg.size);
  }

  // ---- reading ---------------------------------------------------------------------------------

  private read(ref: Ref): Taken<Buffer> {
    const payload = Buffer.allocUnsafe(ref.length);
    fs.readSync(ref.seg.fd, payload, 0, ref.length, ref.offset + HEADER);
    let acked = false;
    return { item: payload, ack: () => { if (!acked) { acked = true; this.ack(ref); } } };
  }

  private shift(): Ref {
    const ref = this.pending[this.head]!;
    this.pending[this.head++] = undefined as unknown as Ref;
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    this.wakeSpace();
    return ref;
  }

  private wakeSpace(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of waiters) w();
  }

  // ---- start-up --------------------------------------------------------------------------------

  private recover(): ScanReport {
    const report: ScanReport = { recovered: 0, corruptRecords: 0, skippedBytes: 0 };
    const names = fs.readdirSync(this.loc.directory);
    const ids = names.map((n) => /^(\d+)\.seg$/.exec(n)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);
    for (const n of names) {
      // An ack file whose segment was already deleted (killed between the two unlinks).
      const m = /^(\d+)\.ack$/.exec(n);
      if (m && !ids.includes(Number(m[1]))) fs.rmSync(path.join(this.loc.directory, n), { force: true });
    }
    for (const id of ids) this.recoverSegment(id, report);
    this.nextId = (ids[ids.length - 1] ?? 0) + 1;
    return report;
  }

  private recoverSegment(id: number, report: ScanReport): void {
    const data = fs.readFileSync(this.file(id, 'seg'));
    this.loc.budget.claim(data.length);
    const acked = readAcks(this.file(id, 'ack'));
    const scan = scanRecords(data);
    report.corruptRecords += scan.corrupt;
    report.skippedBytes += scan.skippedBytes;
    const seg: Segment = { id, fd: fs.openSync(this.file(id, 'seg'), 'r'), ackFd: undefined, size: data.length, records: scan.records.length, acked: 0, sealed: true };
    this.segments.set(id, seg);
    for (const r of scan.records) {
      if (acked.has(r.offset)) seg.acked++;
      else this.pending.push({ seg, offset: r.offset, length: r.length });
    }
    report.recovered += seg.records - seg.acked;
    this.deleteIfDone(seg);
  }

  private file(id: number, ext: 'seg' | 'ack'): string {
    return path.join(this.loc.directory, `${String(id).padStart(12, '0')}.${ext}`);
  }
}

/** Valid records of a segment, and what had to be skipped to find them. */
export function scanRecords(buf: Buffer): { records: { offset: number; length: number }[]; corrupt: number; skippedBytes: number } {
  const records: { offset: number; length: number }[] = [];
  let corrupt = 0;
  let skippedBytes = 0;
  let pos = 0;
  while (pos < buf.length) {
    const length = validRecordAt(buf, pos);
    if (length !== undefined) {
      records.push({ offset: pos, length });
      pos += HEADER + length;
      continue;
    }
    // Damaged here: resume at the next record that starts with the magic.
    corrupt++;
    const next = buf.indexOf(MAGIC, pos + 1);
    const resume = next < 0 ? buf.length : next;
    skippedBytes += resume - pos;
    pos = resume;
  }
  return { records, corrupt, skippedBytes };
}

function validRecordAt(buf: Buffer, pos: number): number | undefined {
  if (buf.length - pos < HEADER || !buf.subarray(pos, pos + 4).equals(MAGIC)) return undefined;
  const length = buf.readUInt32LE(pos + 4);
  const end = pos + HEADER + length;
  if (end > buf.length) return undefined;
  const crc = zlib.crc32(buf.subarray(pos + HEADER, end), zlib.crc32(buf.subarray(pos + 4, pos + 8)));
  return crc === buf.readUInt32LE(pos + 8) ? length : undefined;
}

function readAcks(file: string): Set<number> {
  const acked = new Set<number>();
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch {
    return acked;
  }
  // A torn last entry (fewer than 4 bytes) is ignored: that record is sent again.
  for (let i = 0; i + 4 <= data.length; i += 4) acked.add(data.readUInt32LE(i));
  return acked;
}

function closeSegment(seg: Segment): void {
  fs.closeSync(seg.fd);
  if (seg.ackFd !== undefined) fs.closeSync(seg.ackFd);
  seg.ackFd = undefined;
}

function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
