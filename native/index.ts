// The only TypeScript module that touches the sonde_bpf addon (build/native/sonde_bpf.node, built
// by scripts/setup-ebpf.sh). Everything else imports the typed classes below.
//
// Lifetime: a BpfObject owns the Links and readers opened through it; close() releases readers,
// then links, then the object. Links are fds: if the process dies, the kernel detaches them.
// Nothing is pinned.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { AddonLoadError, BpfError, VerifierError } from './errors';
import { permissionHint } from './system';

export { AddonLoadError, BpfError, NotSupportedError, VerifierError } from './errors';

// ---- the addon's raw shape -------------------------------------------------------------------

export interface ProgramSpec {
  name: string;
  /** ELF section, e.g. "tracepoint/syscalls/sys_enter_write" */
  section: string;
  /** libbpf's program type name, e.g. "tracepoint", "kprobe", "tracing", "perf_event" */
  type: string;
  autoload: boolean;
}

export interface MapSpec {
  name: string;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** .rodata/.data/.bss */
  internal: boolean;
}

export interface ProgramStats {
  id: number;
  /** runs since BPF stats were enabled (see enableStats) */
  runCount: bigint;
  runTimeNs: bigint;
  verifiedInstructions: number;
}

export interface ReaderStats {
  /** records taken from the kernel buffer */
  records: number;
  /** batches handed to the JS queue */
  batches: number;
  /** records dropped because the JS queue was full */
  droppedRecords: number;
  droppedBatches: number;
  /** perf buffer: records the kernel could not store (ring buffers count in the sonde_lost map) */
  kernelLost: number;
  /** records shorter than recordSize */
  malformed: number;
  /** 0.5 ms waits of the poll thread for room in the JS queue (back-pressure, not loss) */
  queueFullWaits: number;
  running: boolean;
  /** the poll loop stopped on this error */
  error?: string;
}

export interface ClockPair {
  monotonicNs: bigint;
  realtimeNs: bigint;
  uncertaintyNs: number;
}

export interface KprobeOptions {
  retprobe?: boolean;
  offset?: number;
}

export interface UprobeOptions {
  /** path of the executable or library (a bare name is looked up like libbpf does) */
  binary: string;
  /** function name; resolved from the ELF symbol tables */
  symbol?: string;
  /** offset in the file, or added to the symbol's */
  offset?: number;
  /** only this process; default every process mapping the binary */
  pid?: number;
  retprobe?: boolean;
}

export interface PerfEventOptions {
  /** samples per second per CPU (default 99); or give period */
  frequency?: number;
  period?: number;
  /** default cpu-clock (software, works in VMs) */
  event?: 'cpu-clock' | 'cpu-cycles';
  /** only this process; default all */
  pid?: number;
  /** default every possible CPU (offline ones skipped) */
  cpus?: number[];
}

export interface ReaderOptions {
  /** records of exactly this size, concatenated in each batch; 0 (default) = u32-length framed */
  recordSize?: number;
  /** flush a batch to JS at this many bytes (default 256 KiB) */
  batchBytes?: number;
  /** poll timeout; also the longest a record waits when wake-ups are suppressed (default 50) */
  pollTimeoutMs?: number;
  /** bounded JS queue of batches (default 64) */
  maxQueuedBatches?: number;
  /** when the JS queue is full, wait this long for room (records stay in the kernel buffer),
   * then drop the batch and count it (default 1000; 0 = drop at once) */
  maxBlockMs?: number;
  /** hand over a partly filled batch once its first record is this old (default pollTimeoutMs) */
  flushIntervalMs?: number;
  /** perf buffer pages per CPU (default 64) */
  perfBufferPages?: number;
}

interface RawLink {
  readonly kind: string;
  readonly program: string;
  readonly target: string;
  readonly closed: boolean;
  readonly count: number;
  close(): void;
}

interface RawBpfObject {
  name(): string;
  programs(): ProgramSpec[];
  maps(): MapSpec[];
  setGlobal(name: string, value: Buffer): void;
  hasGlobal(name: string): boolean;
  setAutoload(program: string, on: boolean): void;
  setMapMaxEntries(map: string, n: number): void;
  setMapAutocreate(map: string, on: boolean): void;
  setAttachTarget(program: string, func: string): void;
  load(): void;
  attach(program: string): RawLink;
  attachTracepoint(program: string, category: string, name: string): RawLink;
  attachRawTracepoint(program: string, name: string): RawLink;
  attachKprobe(program: string, func: string, opts: KprobeOptions): RawLink;
  attachTrace(program: string): RawLink;
  attachUprobe(program: string, opts: UprobeOptions): RawLink;
  attachPerfEvent(program: string, opts: PerfEventOptions): RawLink;
  mapFd(map: string): number;
  mapLookup(map: string, key: Buffer): Buffer | null;
  mapUpdate(map: string, key: Buffer, value: Buffer, flags?: number): void;
  mapDelete(map: string, key: Buffer): boolean;
  mapKeys(map: string, max?: number): Buffer[];
  programInfo(program: string): ProgramStats;
  close(): void;
}

interface RawReader {
  close(): ReaderStats;
  stats(): ReaderStats;
}

/** `droppedBefore`: records the reader had dropped (its queue to JS full) when this batch was
 * handed over; a rise from the last batch's value is a gap just before this batch. */
type BatchCallback = (batch: Buffer, records: number, droppedBefore: number) => void;

interface RawAddon {
  BpfObject: new (path: string, opts?: { btfCustomPath?: string; objectName?: string }) => RawBpfObject;
  Reader: new (
    kind: 'ringbuf' | 'perfbuf',
    mapFd: number,
    callback: BatchCallback,
    opts: ReaderOptions & { name?: string },
  ) => RawReader;
  clockPair(): ClockPair;
  enableStats(): RawLink;
  possibleCpus(): number;
  libbpfVersion(): string;
}

// ---- locating things -------------------------------------------------------------------------

/** The project root: the nearest ancestor of this file holding package.json (works from native/
 * under a TS loader and from dist/native/ after the build). */
export function sondeRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'native'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(__dirname, '..');
    dir = up;
  }
}

/** Where built BPF objects live: $SONDE_BPF_DIR or <root>/build/bpf. */
export function bpfObjectDir(): string {
  return process.env['SONDE_BPF_DIR'] ?? path.join(sondeRoot(), 'build', 'bpf');
}

/** Path of a built BPF object by its source name: "syscall_write" -> build/bpf/syscall_write.bpf.o */
export function bpfObjectPath(name: string): string {
  return path.join(bpfObjectDir(), `${name}.bpf.o`);
}

let addon: RawAddon | undefined;
let addonError: AddonLoadError | undefined;

/** The paths the loader tries, in order. */
export function addonCandidates(): string[] {
  const root = sondeRoot();
  const list = [
    path.join(root, 'build', 'native', 'sonde_bpf.node'),
    path.join(root, 'native', 'build', 'Release', 'sonde_bpf.node'),
    path.join(root, 'native', 'build', 'Debug', 'sonde_bpf.node'),
  ];
  const env = process.env['SONDE_ADDON'];
  return env ? [env, ...list] : list;
}

function loadAddon(): RawAddon {
  if (addon) return addon;
  if (addonError) throw addonError;
  const tried: string[] = [];
  const reasons: string[] = [];
  for (const p of addonCandidates()) {
    tried.push(p);
    if (!fs.existsSync(p)) {
      reasons.push(`${p}: not found`);
      continue;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      addon = require(p) as RawAddon;
      return addon;
    } catch (e) {
      reasons.push(`${p}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  addonError = new AddonLoadError(
    `the eBPF addon sonde_bpf.node could not be loaded (build it with: bash scripts/setup-ebpf.sh); tried:\n  ${reasons.join('\n  ')}`,
    tried,
  );
  throw addonError;
}

/** Whether the addon loads here; never throws. */
export function addonStatus(): { ok: true; libbpf: string } | { ok: false; error: AddonLoadError } {
  try {
    return { ok: true, libbpf: loadAddon().libbpfVersion() };
  } catch (e) {
    return { ok: false, error: e instanceof AddonLoadError ? e : new AddonLoadError(String(e), []) };
  }
}

// ---- errors ----------------------------------------------------------------------------------

interface NativeErrorProps {
  errno?: unknown;
  code?: unknown;
  op?: unknown;
  program?: unknown;
  attachPoint?: unknown;
  libbpfLog?: unknown;
  verifierLog?: unknown;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Native errors carry errno/op/program...; give them their types (and a hint on EPERM). */
function typed(e: unknown): unknown {
  if (!(e instanceof Error) || e instanceof BpfError) return e;
  const p = e as Error & NativeErrorProps;
  if (typeof p.errno !== 'number') return e;
  let message = e.message;
  const verifierLog = str(p.verifierLog);
  // EPERM is about privileges (or lockdown); the verifier's refusals come as EACCES with a log
  if (p.code === 'EPERM' && !verifierLog) message += `: ${permissionHint()}`;
  if (verifierLog) {
    const last = verifierLog.trim().split('\n').slice(-3).join(' | ');
    return new VerifierError(`${message}; verifier: ${last}`, p.errno, str(p.code), str(p.op), str(p.program), str(p.libbpfLog), verifierLog, { cause: e });
  }
  return new BpfError(message, p.errno, str(p.code), str(p.op), str(p.program), str(p.attachPoint), str(p.libbpfLog), { cause: e });
}

function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw typed(e);
  }
}

// ---- public classes --------------------------------------------------------------------------

/** Something attached (or an enabled facility). close() detaches; safe twice. */
export class Link {
  readonly kind: string;
  readonly program: string;
  readonly target: string;
  private onClose: ((l: Link) => void) | undefined;

  /** @internal */
  constructor(private readonly raw: RawLink, onClose?: (l: Link) => void) {
    this.kind = raw.kind;
    this.program = raw.program;
    this.target = raw.target;
    this.onClose = onClose;
  }

  get closed(): boolean {
    return this.raw.closed;
  }

  close(): void {
    this.raw.close();
    const cb = this.onClose;
    this.onClose = undefined;
    cb?.(this);
  }
}

/** Reads a BPF_MAP_TYPE_RINGBUF or PERF_EVENT_ARRAY on a native thread, batches to `onBatch`. */
abstract class BufferReader {
  private delivered = 0;
  private deliveredRecords = 0;
  private raw: RawReader | undefined;
  private finalStats: ReaderStats | undefined;
  private onClose: ((r: BufferReader) => void) | undefined;

  /** @internal */
  constructor(
    kind: 'ringbuf' | 'perfbuf',
    readonly map: string,
    fd: number,
    onBatch: BatchCallback,
    opts: ReaderOptions,
    onClose?: (r: BufferReader) => void,
  ) {
    this.onClose = onClose;
    const cb: BatchCallback = (batch, records, droppedBefore) => {
      this.delivered++;
      this.deliveredRecords += records;
      onBatch(batch, records, droppedBefore);
    };
    this.raw = call(() => new (loadAddon().Reader)(kind, fd, cb, { ...opts, name: map }));
  }

  /** Counters so far, plus how many records reached the callback. */
  stats(): ReaderStats & { deliveredRecords: number } {
    const s = this.raw ? this.raw.stats() : (this.finalStats as ReaderStats);
    return { ...s, deliveredRecords: this.deliveredRecords };
  }

  /** Stops the thread now (after draining the kernel buffer); queued batches still arrive. */
  closeNow(): ReaderStats {
    if (this.raw) {
      this.finalStats = this.raw.close();
      this.raw = undefined;
      const cb = this.onClose;
      this.onClose = undefined;
      cb?.(this);
    }
    return this.finalStats as ReaderStats;
  }

  /** Stops the thread, then waits until every queued batch was delivered to the callback. */
  async close(): Promise<ReaderStats & { deliveredRecords: number }> {
    const s = this.closeNow();
    while (this.delivered < s.batches) await new Promise<void>((r) => setImmediate(r));
    return this.stats();
  }
}

export class RingBufferReader extends BufferReader {}
export class PerfBufferReader extends BufferReader {}

export interface OpenOptions {
  /** BTF of the target kernel, instead of /sys/kernel/btf/vmlinux */
  btfCustomPath?: string;
  objectName?: string;
}

export class BpfObject {
  private raw: RawBpfObject | undefined;
  private loaded = false;
  private selfSet = false;
  private readonly links = new Set<Link>();
  private readonly readers = new Set<BufferReader>();
  private hasLostMap: boolean | undefined;

  /** Opens (parses) an object file; nothing touches the kernel until load(). */
  constructor(
    readonly path: string,
    opts: OpenOptions = {},
  ) {
    const A = loadAddon();
    this.raw = call(() => new A.BpfObject(path, opts));
  }

  /** Opens build/bpf/<name>.bpf.o. */
  static open(name: string, opts: OpenOptions = {}): BpfObject {
    return new BpfObject(bpfObjectPath(name), opts);
  }

  private r(): RawBpfObject {
    if (!this.raw) throw new Error(`bpf object ${this.path} is closed`);
    return this.raw;
  }

  get name(): string {
    return this.r().name();
  }
  get isLoaded(): boolean {
    return this.loaded;
  }

  programs(): ProgramSpec[] {
    return this.r().programs();
  }
  maps(): MapSpec[] {
    return this.r().maps();
  }

  // -- before load --
  setGlobal(name: string, value: Buffer): this {
    call(() => this.r().setGlobal(name, value));
    if (name === 'sonde_self_tgid') this.selfSet = true;
    return this;
  }
  /** Whether the object has a global variable of this name (in .rodata/.data/.bss). */
  hasGlobal(name: string): boolean {
    return this.r().hasGlobal(name);
  }
  setGlobalU32(name: string, v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return this.setGlobal(name, b);
  }
  setGlobalU64(name: string, v: bigint | number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    return this.setGlobal(name, b);
  }
  setGlobalBool(name: string, v: boolean): this {
    return this.setGlobal(name, Buffer.from([v ? 1 : 0]));
  }
  setAutoload(program: string, on: boolean): this {
    call(() => this.r().setAutoload(program, on));
    return this;
  }
  /** Loads only these programs (the others stay in the file, unverified). */
  keepOnly(...programs: string[]): this {
    for (const p of this.programs()) this.setAutoload(p.name, programs.includes(p.name));
    return this;
  }
  setMapMaxEntries(map: string, n: number): this {
    call(() => this.r().setMapMaxEntries(map, n));
    return this;
  }
  setMapAutocreate(map: string, on: boolean): this {
    call(() => this.r().setMapAutocreate(map, on));
    return this;
  }

  /** fentry/fexit programs with a bare section (SEC("fentry")): the kernel function to trace,
   * resolved in vmlinux BTF at load. */
  setAttachTarget(program: string, func: string): this {
    call(() => this.r().setAttachTarget(program, func));
    return this;
  }

  /** Creates maps, relocates (CO-RE) and verifies programs. A VerifierError keeps the log.
   * Objects built on bpf/sonde_bpf.h get sonde_self_tgid = this process unless set: Sonde never
   * observes itself. */
  load(): this {
    if (!this.selfSet && this.hasGlobal('sonde_self_tgid')) this.setGlobalU32('sonde_self_tgid', process.pid);
    call(() => this.r().load());
    this.loaded = true;
    return this;
  }

  // -- attach --
  private track(raw: RawLink): Link {
    const l = new Link(raw, (x) => this.links.delete(x));
    this.links.add(l);
    return l;
  }
  /** Attach as the program's section says (e.g. SEC("tracepoint/syscalls/sys_enter_write")). */
  attach(program: string): Link {
    return this.track(call(() => this.r().attach(program)));
  }
  attachTracepoint(program: string, category: string, name: string): Link {
    return this.track(call(() => this.r().attachTracepoint(program, category, name)));
  }
  attachRawTracepoint(program: string, name: string): Link {
    return this.track(call(() => this.r().attachRawTracepoint(program, name)));
  }
  attachKprobe(program: string, func: string, opts: KprobeOptions = {}): Link {
    return this.track(call(() => this.r().attachKprobe(program, func, opts)));
  }
  /** fentry/fexit (target function from the section name, resolved at load). */
  attachTrace(program: string): Link {
    return this.track(call(() => this.r().attachTrace(program)));
  }
  attachUprobe(program: string, opts: UprobeOptions): Link {
    return this.track(call(() => this.r().attachUprobe(program, opts)));
  }
  /** One sampling perf event per CPU, the program attached to each; one Link for all. */
  attachPerfEvent(program: string, opts: PerfEventOptions = {}): Link {
    return this.track(call(() => this.r().attachPerfEvent(program, opts)));
  }

  // -- maps --
  mapFd(map: string): number {
    return call(() => this.r().mapFd(map));
  }
  lookup(map: string, key: Buffer): Buffer | null {
    return call(() => this.r().mapLookup(map, key));
  }
  update(map: string, key: Buffer, value: Buffer, flags = 0): void {
    call(() => this.r().mapUpdate(map, key, value, flags));
  }
  delete(map: string, key: Buffer): boolean {
    return call(() => this.r().mapDelete(map, key));
  }
  keys(map: string, max?: number): Buffer[] {
    return call(() => (max === undefined ? this.r().mapKeys(map) : this.r().mapKeys(map, max)));
  }
  *entries(map: string): IterableIterator<[Buffer, Buffer]> {
    for (const k of this.keys(map)) {
      const v = this.lookup(map, k);
      if (v) yield [k, v];
    }
  }
  /** A u64 value of an array map, summed over CPUs for per-CPU maps. */
  readU64(map: string, index: number): bigint {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(index);
    const v = this.lookup(map, key);
    if (!v) return 0n;
    let sum = 0n;
    for (let off = 0; off + 8 <= v.length; off += 8) sum += v.readBigUInt64LE(off);
    return sum;
  }
  /** Records the kernel side could not reserve ring buffer space for (map sonde_lost). */
  kernelLost(): bigint {
    // an object's maps are fixed once it is opened: listing them (a native call building an
    // object per map) once is enough
    this.hasLostMap ??= this.maps().some((m) => m.name === 'sonde_lost');
    return this.hasLostMap ? this.readU64('sonde_lost', 0) : 0n;
  }

  programInfo(program: string): ProgramStats {
    return call(() => this.r().programInfo(program));
  }

  // -- readers --
  openRingBuffer(map: string, onBatch: BatchCallback, opts: ReaderOptions = {}): RingBufferReader {
    const r = new RingBufferReader('ringbuf', map, this.mapFd(map), onBatch, opts, (x) => this.readers.delete(x));
    this.readers.add(r);
    return r;
  }
  openPerfBuffer(map: string, onBatch: BatchCallback, opts: ReaderOptions = {}): PerfBufferReader {
    const r = new PerfBufferReader('perfbuf', map, this.mapFd(map), onBatch, opts, (x) => this.readers.delete(x));
    this.readers.add(r);
    return r;
  }

  /** Stops readers, detaches links, frees the object. Safe twice. */
  close(): void {
    for (const r of [...this.readers]) r.closeNow();
    for (const l of [...this.links]) l.close();
    this.raw?.close();
    this.raw = undefined;
  }
}

/** While the returned Link is open the kernel counts run count/time of every BPF program. */
export function enableStats(): Link {
  return new Link(call(() => loadAddon().enableStats()));
}

/** CLOCK_MONOTONIC (bpf_ktime_get_ns) and CLOCK_REALTIME read at the same instant. */
export function clockPair(): ClockPair {
  return loadAddon().clockPair();
}

export function possibleCpus(): number {
  return loadAddon().possibleCpus();
}

export function libbpfVersion(): string {
  return loadAddon().libbpfVersion();
}
