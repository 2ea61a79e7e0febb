// TLS plaintext: finds the binaries that define SSL_read/SSL_write (libssl, or an executable
// that links OpenSSL statically, like node) and attaches bpf/http_capture's SSL uprobes to each
// binary once. A uprobe belongs to the file (its inode), so one attach covers every process that
// maps it, running or started later. Discovery: the system's libssl.so.3 and a scan of every
// process (executable + mapped libssl*) at start; then, for each exec (the sched_process_exec
// tracepoint sends an EXEC record), the new executable at once and its mapped libraries a moment
// later (the dynamic loader maps them after exec), which finds copies in containers.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { BpfObject, Link } from '../../native/index';
import { functionOffsets } from '../../pipeline/ebpf/elf';
import { resolveLibrary } from '../../pipeline/ebpf/libraries';
import { listPids, mappedFiles } from '../../pipeline/ebpf/proc';
import { errorMessage } from '../../pipeline/errors';
import type { Logger } from '../../pipeline/logger';

/** Entry probes; the one return probe (uretprobe__SSL_return) goes on each of them too. */
const CALLS = ['SSL_read', 'SSL_read_ex', 'SSL_write', 'SSL_write_ex'] as const;
const SYMBOLS: readonly string[] = [...CALLS, 'SSL_free'];
const LIBSSL = /^libssl\.so(\.\d+)*$/;
/** distinct files remembered (attached or not): a bound, far above a node's binaries */
const MAX_SEEN = 100_000;
const MAX_PENDING_SCANS = 4096;

export type TlsBinaryKind = 'library' | 'executable';
export type TlsAttachFailure = 'elf_unreadable' | 'attach_error' | 'scan_queue_full';

export interface TlsAttachEvents {
  attached(kind: TlsBinaryKind): void;
  failed(reason: TlsAttachFailure): void;
}

export interface TlsBinary {
  /** the path as the process that led to it sees it */
  path: string;
  kind: TlsBinaryKind;
  pid?: number;
  symbols: string[];
}

export class TlsAttacher {
  /** "dev:ino" -> outcome, so each file is looked at once */
  private readonly seen = new Map<string, 'attached' | 'no_ssl' | 'failed'>();
  private readonly attachedList: TlsBinary[] = [];
  private readonly pending = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly obj: BpfObject,
    private readonly id: string,
    private readonly log: Logger,
    private readonly events: TlsAttachEvents,
    /** delay before an exec'd process's mapped libraries are read */
    private readonly mapsDelayMs = 300,
  ) {}

  /** Binaries attached so far. */
  get attached(): readonly TlsBinary[] {
    return this.attachedList;
  }

  /** At start: the system's libssl, then every process's executable and mapped libssl. */
  scanAll(): void {
    let system: string | undefined;
    try {
      system = resolveLibrary('libssl.so.3');
    } catch {
      // no system OpenSSL 3: processes are still scanned
    }
    if (system) this.consider(system, 'library', undefined, system);
    for (const pid of listPids()) {
      if (pid === process.pid) continue;
      this.consider(`/proc/${pid}/exe`, 'executable', pid);
      this.scanLibraries(pid);
    }
  }

  /** A process exec'd: its executable now, its libraries once the loader has mapped them. */
  onExec(pid: number): void {
    if (this.closed || pid === process.pid) return;
    this.consider(`/proc/${pid}/exe`, 'executable', pid);
    if (this.pending.size >= MAX_PENDING_SCANS) {
      this.events.failed('scan_queue_full');
      return;
    }
    this.pending.add(pid);
    if (!this.timer) {
      this.timer = setTimeout(() => this.drain(), this.mapsDelayMs);
      this.timer.unref();
    }
  }

  private drain(): void {
    this.timer = undefined;
    const pids = [...this.pending];
    this.pending.clear();
    for (const pid of pids) if (!this.closed) this.scanLibraries(pid);
  }

  private scanLibraries(pid: number): void {
    for (const f of mappedFiles(pid)) {
      // through the process's root: a container's copy is a file of its own
      if (LIBSSL.test(path.basename(f))) this.consider(`/proc/${pid}/root${f}`, 'library', pid, f);
    }
  }

  private consider(file: string, kind: TlsBinaryKind, pid?: number, shown?: string): void {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      return; // the process is gone
    }
    if (!st.isFile()) return;
    const key = `${st.dev}:${st.ino}`;
    if (this.seen.has(key)) return;
    if (this.seen.size >= MAX_SEEN) this.seen.clear();
    let symbols: Map<string, number>;
    try {
      symbols = functionOffsets(file, SYMBOLS);
    } catch (e) {
      this.seen.set(key, kind === 'library' ? 'failed' : 'no_ssl');
      // an executable that is no 64-bit ELF simply has no OpenSSL to probe
      if (kind === 'library') {
        this.events.failed('elf_unreadable');
        this.log.warn(`${this.id}: cannot read the symbols of ${shown ?? file}${pid ? ` (pid ${pid})` : ''}: ${errorMessage(e)}`);
      }
      return;
    }
    if (!symbols.has('SSL_read') || !symbols.has('SSL_write')) {
      this.seen.set(key, 'no_ssl');
      return;
    }
    const where = shown ?? readLink(file) ?? file;
    const links: Link[] = [];
    try {
      // by file offset: libbpf would re-read the symbol tables for each probe
      for (const sym of CALLS) {
        const offset = symbols.get(sym);
        if (offset === undefined) continue;
        links.push(this.obj.attachUprobe(`uprobe__${sym}`, { binary: file, offset }));
        links.push(this.obj.attachUprobe('uretprobe__SSL_return', { binary: file, offset, retprobe: true }));
      }
      const free = symbols.get('SSL_free');
      if (free !== undefined) links.push(this.obj.attachUprobe('uprobe__SSL_free', { binary: file, offset: free }));
    } catch (e) {
      for (const l of links) l.close();
      this.seen.set(key, 'failed');
      this.events.failed('attach_error');
      this.log.warn(`${this.id}: TLS uprobes not attached to ${where}${pid ? ` (pid ${pid})` : ''}: ${errorMessage(e)}`);
      return;
    }
    this.seen.set(key, 'attached');
    const b: TlsBinary = { path: where, kind, symbols: [...symbols.keys()].sort(), ...(pid ? { pid } : {}) };
    this.attachedList.push(b);
    this.events.attached(kind);
    this.log.info('ebpf_http TLS uprobes attached', { binary: where, kind, pid, symbols: b.symbols.join(',') });
  }

  /** Stops discovery (the links close with the BPF object). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}

function readLink(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}
