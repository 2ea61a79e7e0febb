// An ordered, append-only file writer with lumberjack-style rotation. Writes queue up and go out
// one writev at a time, in the order they were asked for; a write settles when the OS has the
// bytes. A write that fails part-way is cut back off the file, so a record is never torn.
// Data is forced to disk (fdatasync) on an interval and on close.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

export interface Rotation {
  maxBytes: number;
  /** 0 = no age limit. */
  maxDays: number;
  /** 0 = keep every backup. */
  maxBackups: number;
  localTime: boolean;
}

export interface WriterOptions {
  append: boolean;
  rotation?: Rotation;
  /** 0 = sync after every write. */
  syncIntervalMs: number;
  /** For tests: the clock used to name backups and age them. */
  now?: () => number;
  /** Problems with no caller to return them to (pruning, background sync). */
  onBackgroundError?: (what: string, err: unknown) => void;
}

interface Job {
  chunks: Uint8Array[];
  bytes: number;
  resolve(): void;
  reject(err: unknown): void;
}

/** writev takes at most IOV_MAX (1024 on Linux) buffers. */
const MAX_IOV = 1024;
const DAY_MS = 86_400_000;

export class FileWriter {
  private handle: fsp.FileHandle | undefined;
  private size = 0;
  private dirty = false;
  private queue: Job[] = [];
  private running: Promise<void> | undefined;
  private syncing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastBackupMs = 0;
  private opened = false;
  private closed = false;
  private readonly now: () => number;

  constructor(readonly file: string, private readonly opts: WriterOptions) {
    this.now = opts.now ?? Date.now;
  }

  async open(): Promise<void> {
    await fsp.mkdir(path.dirname(this.file), { recursive: true });
    this.handle = await fsp.open(this.file, openFlags(!this.opts.append));
    this.size = this.opts.append ? (await this.handle.stat()).size : 0;
    this.opened = true;
    if (this.opts.syncIntervalMs > 0) {
      this.timer = setInterval(() => this.syncInBackground(), this.opts.syncIntervalMs);
      this.timer.unref();
    }
  }

  /** Appends the chunks as one record; resolves once the OS has all of them. */
  write(chunks: Uint8Array[]): Promise<void> {
    if (this.closed || !this.opened) return Promise.reject(new Error(`${this.file}: writer is ${this.closed ? 'closed' : 'not open'}`));
    let bytes = 0;
    for (const c of chunks) bytes += c.byteLength;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ chunks, bytes, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.running || this.queue.length === 0) return;
    // A write queued while the last drain was finishing is picked up here.
    this.running = this.drain().finally(() => {
      this.running = undefined;
      this.kick();
    });
  }

  /** Waits for queued writes, forces them to disk and closes; safe twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    while (this.running || this.syncing) await (this.running ?? this.syncing);
    const h = this.handle;
    this.handle = undefined;
    if (!h) return;
    try {
      await h.datasync();
    } finally {
      await h.close();
    }
  }

  private async drain(): Promise<void> {
    if (this.syncing) await this.syncing;
    while (this.queue.length > 0) {
      try {
        await this.reopenIfLost();
        if (this.mustRotate(this.queue[0]!.bytes)) await this.rotate();
      } catch (err) {
        // Without a file to write to, every waiting write fails; the next one tries again.
        for (const j of this.queue.splice(0)) j.reject(err);
        return;
      }
      await this.writeJobs(this.nextJobs());
    }
  }

  /** After a failed rotation the file is closed: carry on appending to whatever is there. */
  private async reopenIfLost(): Promise<void> {
    if (this.handle) return;
    const h = await fsp.open(this.file, openFlags(false));
    this.handle = h;
    this.size = (await h.stat()).size;
  }

  /** Queued writes that can go out as one writev without crossing a rotation. */
  private nextJobs(): Job[] {
    const max = this.opts.rotation?.maxBytes;
    const first = this.queue[0]!;
    let bytes = first.bytes;
    let iov = first.chunks.length;
    let n = 1;
    // Called right after any rotation: the rest must fit behind the first job.
    const base = this.size;
    while (n < this.queue.length) {
      const j = this.queue[n]!;
      if (iov + j.chunks.length > MAX_IOV) break;
      if (max !== undefined && base + bytes + j.bytes > max) break;
      bytes += j.bytes;
      iov += j.chunks.length;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private mustRotate(bytes: number): boolean {
    const r = this.opts.rotation;
    // A record larger than the limit still goes out whole, alone in a fresh file.
    return r !== undefined && this.size > 0 && this.size + bytes > r.maxBytes;
  }

  private async writeJobs(jobs: Job[]): Promise<void> {
    const h = this.handle!;
    const start = this.size;
    const buffers: Uint8Array[] = [];
    let total = 0;
    for (const j of jobs) for (const c of j.chunks) { buffers.push(c); total += c.byteLength; }
    try {
      await writeAll(h, buffers, total);
      this.size += total;
      this.dirty = true;
      if (this.opts.syncIntervalMs <= 0) await this.sync();
    } catch (err) {
      // Cut a partial write back off so the next record starts on a clean boundary.
      await h.truncate(start).catch(() => undefined);
      this.size = start;
      for (const j of jobs) j.reject(err);
      return;
    }
    for (const j of jobs) j.resolve();
  }

  private async sync(): Promise<void> {
    if (!this.dirty || !this.handle) return;
    this.dirty = false;
    await this.handle.datasync();
  }

  private syncInBackground(): void {
    // Between writes only: a datasync racing a rotation would hit a closed handle.
    if (this.running || this.syncing || this.closed) return;
    this.syncing = this.sync()
      .catch((err: unknown) => this.opts.onBackgroundError?.('sync', err))
      .finally(() => { this.syncing = undefined; });
  }

  private async rotate(): Promise<void> {
    const r = this.opts.rotation!;
    const old = this.handle!;
    this.handle = undefined;
    try {
      await old.datasync();
    } finally {
      await old.close();
    }
    // Two rotations in one millisecond must not overwrite each other's backup.
    const ms = Math.max(this.now(), this.lastBackupMs + 1);
    this.lastBackupMs = ms;
    await fsp.rename(this.file, backupPath(this.file, ms, r.localTime));
    this.handle = await fsp.open(this.file, openFlags(true));
    this.size = 0;
    this.dirty = false;
    await prune(this.file, r, this.now()).catch((err: unknown) => this.opts.onBackgroundError?.('remove old backups', err));
  }
}

/** Always O_APPEND: after cutting back a failed write, the next one lands at the new end. */
function openFlags(truncate: boolean): number {
  const c = fs.constants;
  return c.O_WRONLY | c.O_CREAT | c.O_APPEND | (truncate ? c.O_TRUNC : 0);
}

async function writeAll(h: fsp.FileHandle, buffers: Uint8Array[], total: number): Promise<void> {
  let left = total;
  // A regular file rarely takes less than asked, but when it does the rest must follow in order.
  for (;;) {
    const { bytesWritten } = await h.writev(buffers);
    if (bytesWritten >= left) return;
    if (bytesWritten === 0) throw new Error('write made no progress');
    left -= bytesWritten;
    buffers = remaining(buffers, bytesWritten);
  }
}

function remaining(buffers: Uint8Array[], skip: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const b of buffers) {
    if (skip >= b.byteLength) { skip -= b.byteLength; continue; }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}

// ---- backup names: name-2006-01-02T15-04-05.000.ext, as lumberjack ------------------------------

const STAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})$/;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function backupStamp(ms: number, localTime: boolean): string {
  const d = new Date(ms);
  const p = localTime
    ? [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()]
    : [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()];
  return `${pad(p[0]!, 4)}-${pad(p[1]!)}-${pad(p[2]!)}T${pad(p[3]!)}-${pad(p[4]!)}-${pad(p[5]!)}.${pad(p[6]!, 3)}`;
}

function parseStamp(stamp: string, localTime: boolean): number | undefined {
  const m = STAMP.exec(stamp);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s, ms] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  return localTime ? new Date(y, mo - 1, d, h, mi, s, ms).getTime() : Date.UTC(y, mo - 1, d, h, mi, s, ms);
}

function nameParts(file: string): { dir: string; prefix: string; ext: string } {
  const ext = path.extname(file);
  return { dir: path.dirname(file), prefix: path.basename(file, ext) + '-', ext };
}

export function backupPath(file: string, ms: number, localTime: boolean): string {
  const { dir, prefix, ext } = nameParts(file);
  return path.join(dir, `${prefix}${backupStamp(ms, localTime)}${ext}`);
}

/** Backups of `file`, newest first. */
export async function listBackups(file: string, localTime: boolean): Promise<{ path: string; ms: number }[]> {
  const { dir, prefix, ext } = nameParts(file);
  const out: { path: string; ms: number }[] = [];
  for (const name of await fsp.readdir(dir)) {
    if (!name.startsWith(prefix) || !name.endsWith(ext)) continue;
    const ms = parseStamp(name.slice(prefix.length, name.length - ext.length), localTime);
    if (ms !== undefined) out.push({ path: path.join(dir, name), ms });
  }
  return out.sort((a, b) => b.ms - a.ms);
}

/** Removes backups beyond max_backups and older than max_days. */
async function prune(file: string, r: Rotation, now: number): Promise<void> {
  if (r.maxBackups <= 0 && r.maxDays <= 0) return;
  const backups = await listBackups(file, r.localTime);
  const cutoff = r.maxDays > 0 ? now - r.maxDays * DAY_MS : -Infinity;
  const doomed = backups.filter((b, i) => (r.maxBackups > 0 && i >= r.maxBackups) || b.ms < cutoff);
  await Promise.all(doomed.map((b) => fsp.rm(b.path, { force: true })));
}
