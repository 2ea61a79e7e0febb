// The ebpf_http receiver: loads bpf/http_capture.bpf.c with the filters as read-only globals,
// attaches it to the socket syscall tracepoints (and, for TLS, its SSL uprobes to each binary
// that defines SSL_read/SSL_write: tls.ts), feeds the records to the HTTP tracker and pushes
// the spans down the pipeline every flush interval.
import * as fs from 'node:fs';
import * as os from 'node:os';

import { kernelClock } from '../../native/clock';
import { attachFirst, type AttachOption } from '../../native/fallback';
import { probeFeatures, type FeatureReport } from '../../native/features';
import { BpfObject, bpfObjectPath, possibleCpus } from '../../native/index';
import type { RingBufferReader } from '../../native/index';
import { missingCapabilities, permissionHint } from '../../native/system';
import type { Component, Host, Settings, SignalConsumers } from '../../pipeline/component';
import { executableMatcher, processInfo, type ProcessInfo } from '../../pipeline/ebpf/proc';
import { ComponentError, errorMessage } from '../../pipeline/errors';
import type { Span } from '../../pipeline/pdata';
import { MAX_FILTER, type EbpfHttpConfig } from './config';
import { EventKind, KERNEL_COUNTERS, TimeOrderedRecords, type HttpEvent } from './record';
import { SpanBuilder } from './spans';
import { TlsAttacher, type TlsBinary } from './tls';
import { HttpTracker, type Exchange, type TrackerCount } from './tracker';

export const HTTP_OBJECT = 'http_capture';
const TRACEFS_EVENTS = '/sys/kernel/tracing/events';
const TRACEFS_SYSCALLS = `${TRACEFS_EVENTS}/syscalls`;

/** Programs attached per binary by tls.ts, never by their section name. */
const isUprobe = (name: string): boolean => name.startsWith('uprobe__') || name.startsWith('uretprobe__');
const EXEC_PROGRAM = 'tracepoint__sched__sched_process_exec';

/** Data paths, best-first. The sock and tcp tracepoints fire once per socket message and need
 * no syscall tracepoint (enabling one puts every syscall of every process on the kernel's slow
 * path); probes on tcp_sendmsg/tcp_recvmsg see every TCP message once, beside the accept/connect
 * tracepoints; the syscall tracepoints see every read/write of every file. */
export type DataPath = 'sock_tracepoint' | 'fentry' | 'kprobe' | 'tracepoint';
const PATHS: readonly DataPath[] = ['sock_tracepoint', 'fentry', 'kprobe', 'tracepoint'];
const KERNEL_PROGRAMS: Record<'sock_tracepoint' | 'fentry' | 'kprobe', RegExp> = {
  sock_tracepoint: /^tp_btf__/,
  fentry: /^f(?:entry|exit)__tcp_/,
  kprobe: /^k(?:ret)?probe__tcp_/,
};
/** what the sock path attaches to (category/name under tracefs events) */
export const SOCK_TRACEPOINTS = ['sock/sock_send_length', 'sock/sock_recv_length', 'tcp/tcp_sendmsg_locked', 'sock/inet_sock_set_state'] as const;
/** the syscall programs the kernel path replaces (accept/connect/exec stay) */
const SYSCALL_DATA = /^tracepoint__syscalls__sys_(?:enter|exit)_(?:read|readv|recvfrom|recvmsg|write|writev|sendto|sendmsg|sendfile64|close)$/;
const SYSCALL_ANY = /^tracepoint__syscalls__/;
/** receive entries, not needed where the arguments are read at exit (args_at_exit) */
const RECV_ENTRY = /^tracepoint__syscalls__sys_enter_(?:read|readv|recvfrom|recvmsg)$/;
/** a map of the path not taken, kept small */
const UNUSED_MAP_ENTRIES = 1024;
/** Records wait in the ring until a quarter of it (at most 1 MiB) is pending or POLL_MS have
 * passed: at 5 000 requests/s Sonde wakes for ~700 requests at a time instead of ~170, and each
 * wake-up on a busy node starts from cold caches (measured: 2-4 us less CPU per request, the
 * kernel side included, fewer wake-ups to signal). Spans wait at most that long more. */
const WAKEUP_MAX_BYTES = 1 << 20;
const POLL_MS = 200;
/** Kernel time a record waits for records from syscalls still running when its batch was taken
 * (a send is timed at its entry but reaches the ring at its exit): longer than a loopback send. */
const HOLD_NS = 10_000_000;
const EMPTY_BATCH = Buffer.alloc(0);
const wakeupBytes = (ringBytes: number): number => Math.min(WAKEUP_MAX_BYTES, ringBytes / 4);
/** How often a CPU looks at the ring's fill level (a cache line the reader writes): the CPUs
 * together overshoot the wake-up threshold by at most a quarter of it. */
const wakeupCheckBytes = (ringBytes: number): number => Math.floor(wakeupBytes(ringBytes) / (4 * possibleCpus()));

/** One bit per tgid below the kernel's pid_max, in 64-bit words (skip_bits, tls_bits). */
function pidBitmapWords(): number {
  let pidMax = 4 << 20; // the largest pid_max Linux allows
  try {
    pidMax = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()) || pidMax;
  } catch {
    // no procfs: the largest
  }
  return Math.ceil(pidMax / 64);
}

/** Which argument of tcp_recvmsg holds its flags on a kernel release ("6.1.0-18-amd64"): the
 * 4th since Linux 5.19 dropped the `nonblock` argument before them, the 5th before. */
export function tcpRecvmsgFlagsArg(release: string): 4 | 5 {
  const [major = 0, minor = 0] = release.split(/[.-]/).map(Number);
  return major > 5 || (major === 5 && minor >= 19) ? 4 : 5;
}

/** The sock path's tracepoints this kernel lacks (none known missing when tracefs is not mounted:
 * the attach then says). */
export function missingSockTracepoints(): string[] {
  if (!fs.existsSync(TRACEFS_EVENTS)) return [];
  return SOCK_TRACEPOINTS.filter((t) => !fs.existsSync(`${TRACEFS_EVENTS}/${t}`));
}

/** Without these the receiver sees nothing useful; the others only add coverage. */
const REQUIRED = new Set(['accept4', 'connect', 'read', 'write', 'close']);

/** Tracker counts -> self-metric name and reason. */
const METRIC: Record<TrackerCount, [string, string?]> = {
  requests: ['http_requests_seen'],
  responses: ['http_responses_seen'],
  exchanges: ['http_exchanges'],
  unmatched_response: ['http_unmatched', 'response_without_request'],
  midstream_request: ['http_unmatched', 'midstream_request'],
  skipped_out_of_sync: ['http_unmatched', 'out_of_sync'],
  desync: ['http_unmatched', 'desync'],
  framing_lost: ['http_unmatched', 'framing_lost'],
  partial_framing_lost: ['http_partial', 'framing_lost'],
  partial_records_lost: ['http_partial', 'records_lost'],
  partial_closed_without_response: ['http_partial', 'closed_without_response'],
  partial_closed_mid_response: ['http_partial', 'closed_mid_response'],
  partial_idle_timeout: ['http_partial', 'idle_timeout'],
  partial_evicted: ['http_partial', 'evicted'],
  partial_pending_overflow: ['http_partial', 'pending_overflow'],
  partial_upgraded: ['http_partial', 'protocol_upgrade'],
  head_truncated: ['http_framing', 'head_truncated'],
  end_inferred: ['http_framing', 'end_inferred'],
};

export class EbpfHttpReceiver implements Component {
  private obj: BpfObject | undefined;
  private reader: RingBufferReader | undefined;
  private tls: TlsAttacher | undefined;
  /** tls: true and the kernel takes uprobes (decided at start) */
  private tlsWanted = false;
  private features: FeatureReport | undefined;
  /** the data path in use (after start) */
  dataPath: DataPath | undefined;
  /** syscalls' arguments read at exit (Linux 5.15+), not kept from entry in a map */
  argsAtExit = false;
  private timer: NodeJS.Timeout | undefined;
  private pushing: Promise<void> | undefined;
  private readonly tracker: HttpTracker;
  private readonly spans: SpanBuilder;
  private readonly allowExecutable: ((p: ProcessInfo) => boolean) | undefined;
  private readonly allowed = new Map<number, boolean>();
  private readonly ordered = new TimeOrderedRecords(HOLD_NS);
  private readonly onRecord = (e: HttpEvent): void => this.record(e);
  /** the executable filter's last answer (records come in runs from one process) */
  private lastTgid = -1;
  private lastAllowed = false;
  private queue = new Map<number, Span[]>();
  private queued = 0;
  private readonly counts = new Map<string, number>();
  private nRequests = 0;
  private nResponses = 0;
  private nExchanges = 0;
  private readonly kernelSeen = new Map<string, bigint>();
  private lastSweep = 0;
  /** the reader's count of dropped records as of the last batch */
  private readerDropped = 0;
  private stopped = false;
  private readonly log;

  constructor(
    private readonly settings: Settings,
    private readonly config: EbpfHttpConfig,
    private readonly next: SignalConsumers,
  ) {
    this.log = settings.logger;
    this.allowExecutable = config.executables.length > 0 ? executableMatcher(config.executables) : undefined;
    this.spans = new SpanBuilder(kernelClock(), {
      captureQuery: config.capture_query,
      scopeVersion: settings.buildInfo.version,
      commandLine: config.resource_attributes['process.command_line'].enabled,
    });
    this.tracker = new HttpTracker(
      { maxConnections: config.max_connections, maxPendingRequests: config.max_pending_requests, idleTimeoutMs: config.idle_timeout },
      (x) => this.exchange(x),
      (what, n = 1) => {
        // the three counted per request in plain fields (a keyed or map update per count costs)
        if (what === 'requests') this.nRequests += n;
        else if (what === 'responses') this.nResponses += n;
        else if (what === 'exchanges') this.nExchanges += n;
        else this.bump(METRIC[what], n);
      },
    );
  }

  private fail(msg: string, cause?: unknown): ComponentError {
    return new ComponentError(this.settings.id, msg, cause === undefined ? undefined : { cause });
  }

  async start(_host: Host): Promise<void> {
    if (this.stopped) throw this.fail('started after shutdown');
    const problem = await this.hostProblem();
    if (problem !== undefined) {
      if (this.config.on_missing_privileges === 'fail') throw this.fail(problem);
      // on_missing_privileges: warn: one line, and the other pipelines run without this receiver
      this.log.warn(`${this.settings.id} is not running: ${problem}; the other pipelines run without it`);
      return;
    }
    const wanted = this.config.attach === 'auto' ? PATHS : [this.config.attach];
    const options: AttachOption<{ obj: BpfObject; skipped: string[] }>[] = wanted.map((path) => ({
      name: path,
      attach: () => this.open(path),
    }));
    let choice;
    try {
      choice = attachFirst(`${this.settings.id} data path`, options);
    } catch (e) {
      throw this.fail(`loading bpf/${HTTP_OBJECT}.bpf.c (pid ${process.pid}): ${errorMessage(e)}`, e);
    }
    const { obj, skipped } = choice.value;
    this.obj = obj;
    this.dataPath = choice.chosen as DataPath;
    try {
      if (this.tlsWanted) {
        this.tls = new TlsAttacher(obj, this.settings.id, this.log, {
          attached: (kind) => this.bump(['http_tls_binaries_attached', kind], 1),
          failed: (reason) => this.bump(['http_tls_attach_failed', reason], 1),
        });
        this.tls.scanAll();
      }
    } catch (e) {
      this.tls?.close();
      this.tls = undefined;
      obj.close();
      this.obj = undefined;
      this.reader = undefined;
      throw this.fail(`TLS discovery (pid ${process.pid}): ${errorMessage(e)}`, e);
    }
    this.log.info('ebpf_http attached', {
      attach: choice.chosen,
      syscall_args: choice.chosen === 'tracepoint' ? (this.argsAtExit ? 'exit' : 'entry') : undefined,
      not_taken: choice.failures.map((f) => `${f.name}: ${f.reason}`).join('; ') || undefined,
      programs: this.attachedPrograms().length,
      skipped: skipped.join(',') || undefined,
      capture_bytes: this.config.capture_bytes,
      ports: this.config.ports.join(',') || 'all',
      tls: this.tls ? `${this.tls.attached.length} binaries` : 'off',
    });
    this.timer = setInterval(() => this.tick(), this.config.flush_interval);
    this.timer.unref();
  }

  /** Opens, configures, loads and attaches the object for one data path (closed on failure). */
  private open(path: DataPath): { obj: BpfObject; skipped: string[] } {
    // the probe already knows the kernel refuses this kind: no load attempt (and no verifier pass)
    const support = path === 'tracepoint' || path === 'sock_tracepoint' ? undefined : this.features?.attach[path];
    if (support && !support.supported) throw new Error(support.reason ?? `${path} unsupported`);
    if (path === 'sock_tracepoint') {
      const missing = missingSockTracepoints();
      if (missing.length > 0) throw new Error(`this kernel has no tracepoint ${missing.join(', ')}`);
    }
    if (path !== 'tracepoint') return this.openWith(path, false);
    try {
      return this.openWith(path, true);
    } catch (e) {
      // before Linux 5.15 (no bpf_task_pt_regs) syscalls keep their arguments from entry in a map
      this.log.debug('ebpf_http: syscall arguments at exit refused, keeping them from entry', { error: errorMessage(e) });
      return this.openWith(path, false);
    }
  }

  private openWith(path: DataPath, argsAtExit: boolean): { obj: BpfObject; skipped: string[] } {
    const obj = new BpfObject(bpfObjectPath(HTTP_OBJECT));
    try {
      const skipped = this.configure(obj, this.tlsWanted, path);
      obj.setGlobalBool('args_at_exit', argsAtExit);
      if (argsAtExit) for (const p of obj.programs()) if (RECV_ENTRY.test(p.name)) obj.setAutoload(p.name, false);
      obj.load();
      this.reader = obj.openRingBuffer('events', (batch, _n, droppedBefore) => this.onBatch(batch, droppedBefore), { pollTimeoutMs: POLL_MS, batchBytes: wakeupBytes(this.config.ring_buffer_size) });
      for (const p of obj.programs()) if (p.autoload && !isUprobe(p.name)) obj.attach(p.name);
      this.argsAtExit = argsAtExit;
      return { obj, skipped };
    } catch (e) {
      obj.close();
      this.reader = undefined;
      throw e;
    }
  }

  /** What keeps this host from running the receiver (privileges, addon, kernel), if anything. */
  private async hostProblem(): Promise<string | undefined> {
    if (missingCapabilities().length > 0) return `cannot load its eBPF programs (pid ${process.pid}): ${permissionHint()}`;
    const report = await probeFeatures();
    this.features = report;
    if (!report.addon.loaded) return `the eBPF addon is not available (pid ${process.pid}): ${report.addon.error ?? ''} (build it with: bash scripts/setup.sh)`;
    for (const kind of ['tracepoint', 'ringbuf'] as const) {
      const a = report.attach[kind];
      if (!a.supported) return `needs ${kind} support, which this kernel refuses (pid ${process.pid}): ${a.reason ?? 'unknown reason'}`;
    }
    this.tlsWanted = this.config.tls && report.attach.uprobe.supported;
    if (this.config.tls && !this.tlsWanted) {
      this.log.warn(`${this.settings.id}: HTTPS is not traced: this kernel refuses uprobes (${report.attach.uprobe.reason ?? 'unknown reason'})`);
    }
    return undefined;
  }

  /** TLS binaries attached so far (tests, diagnostics). */
  tlsBinaries(): readonly TlsBinary[] {
    return this.tls?.attached ?? [];
  }

  /** The programs attached by name (the SSL uprobes aside): tests, diagnostics. */
  attachedPrograms(): string[] {
    return this.obj?.programs().filter((p) => p.autoload && !isUprobe(p.name)).map((p) => p.name) ?? [];
  }

  /** Globals and map sizes before load; the programs of the other data paths, and those whose
   * syscall tracepoint is missing, stay out. */
  private configure(obj: BpfObject, tls: boolean, path: DataPath): string[] {
    const c = this.config;
    if (c.pids.length > MAX_FILTER || c.ports.length > MAX_FILTER) throw new Error(`at most ${MAX_FILTER} pids and ports`);
    const pids = Buffer.alloc(4 * MAX_FILTER);
    c.pids.forEach((p, i) => pids.writeUInt32LE(p, i * 4));
    const ports = Buffer.alloc(2 * MAX_FILTER);
    c.ports.forEach((p, i) => ports.writeUInt16LE(p, i * 2));
    const kernelPath = path !== 'tracepoint';
    const pidWords = this.allowExecutable || tls ? pidBitmapWords() : 1;
    obj
      .setGlobalU32('capture_bytes', c.capture_bytes)
      .setGlobal('filter_pids', pids).setGlobalU32('filter_pid_count', c.pids.length)
      .setGlobal('filter_ports', ports).setGlobalU32('filter_port_count', c.ports.length)
      .setGlobalBool('use_skip_tgids', this.allowExecutable !== undefined)
      .setGlobalU32('sonde_self_tgid', process.pid)
      .setGlobalBool('tls_enabled', tls)
      .setGlobalBool('kernel_path', kernelPath)
      .setGlobalU32('tcp_recvmsg_flags_arg', tcpRecvmsgFlagsArg(os.release()))
      .setMapMaxEntries('events', c.ring_buffer_size)
      .setGlobalU64('sonde_wakeup_bytes', wakeupBytes(c.ring_buffer_size))
      .setGlobalU64('wakeup_check_bytes', wakeupCheckBytes(c.ring_buffer_size))
      .setMapMaxEntries('skip_bits', this.allowExecutable ? pidWords : 1)
      .setMapMaxEntries('tls_bits', tls ? pidWords : 1)
      .setMapMaxEntries('conns', kernelPath ? UNUSED_MAP_ENTRIES : c.max_connections)
      // the sock path keeps its connections with their sockets (no limit, no map)
      .setMapMaxEntries('sk_conns', path === 'fentry' || path === 'kprobe' ? c.max_connections : UNUSED_MAP_ENTRIES)
      .setMapMaxEntries('sk_ssl', tls && kernelPath ? c.max_connections : UNUSED_MAP_ENTRIES);
    const skipped: string[] = [];
    for (const p of obj.programs()) {
      const other = (Object.keys(KERNEL_PROGRAMS) as (keyof typeof KERNEL_PROGRAMS)[]).some((k) => k !== path && KERNEL_PROGRAMS[k].test(p.name));
      // the sock path uses no syscall tracepoint at all, accept/connect included
      const syscall = path === 'sock_tracepoint' ? SYSCALL_ANY.test(p.name) : kernelPath && SYSCALL_DATA.test(p.name);
      if (other || syscall || (!tls && isUprobe(p.name)) || (!tls && !this.allowExecutable && p.name === EXEC_PROGRAM)) obj.setAutoload(p.name, false);
    }
    for (const p of obj.programs()) {
      const m = /^tracepoint__syscalls__(sys_(?:enter|exit)_(\w+))$/.exec(p.name);
      if (!m || !p.autoload || !fs.existsSync(TRACEFS_SYSCALLS) || fs.existsSync(`${TRACEFS_SYSCALLS}/${m[1] as string}`)) continue;
      if (REQUIRED.has(m[2] as string)) throw new Error(`this kernel has no tracepoint syscalls/${m[1] as string}`);
      obj.setAutoload(p.name, false);
      skipped.push(m[1] as string);
    }
    return skipped;
  }

  private onBatch(batch: Buffer, droppedBefore: number): void {
    if (droppedBefore > this.readerDropped) {
      // the reader dropped records just before this batch (its queue to JS was full): what was
      // held goes first, then every connection syncs again (counted as reader_queue_full)
      this.readerDropped = droppedBefore;
      this.releaseHeld(true);
      this.tracker.recordsLost();
    }
    this.visit(batch);
  }

  /** Hands records to the tracker in kernel-time order: the batch's and those held from before,
   * up to `untilNs` (default: all but the last HOLD_NS of kernel time, which wait). */
  private visit(batch: Buffer, untilNs?: number): void {
    this.spans.syncClock();
    this.tracker.beginBatch();
    const bad = this.ordered.visit(batch, this.onRecord, untilNs);
    this.tracker.endBatch();
    if (bad > 0) this.bump(['http_dropped', 'malformed_record'], bad);
  }

  /** Records held longer than HOLD_NS of kernel time go on (traffic may have stopped). */
  private releaseHeld(all: boolean): void {
    if (this.ordered.heldBytes === 0) return;
    this.visit(EMPTY_BATCH, all ? Infinity : Number(process.hrtime.bigint()) - HOLD_NS);
  }

  private record(e: HttpEvent): void {
    if (e.kind === EventKind.EXEC) {
      // a new program: the executable filter decides again
      if (this.allowExecutable) this.forgetProcess(e.tgid);
      if (!this.tls) return;
      try {
        this.tls.onExec(e.tgid);
      } catch (err) {
        this.log.debug('ebpf_http TLS discovery failed', { error: errorMessage(err), pid: e.tgid });
      }
      return;
    }
    if (this.allowExecutable && !this.processAllowed(e)) return;
    try {
      this.tracker.handle(e);
    } catch (err) {
      // never throw on the data path: count, and sync the connection again as after a lost record
      this.bump(['http_dropped', 'parser_error'], 1);
      this.tracker.recordFailed(e);
      this.log.debug('ebpf_http record failed', { error: errorMessage(err), pid: e.tgid });
    }
  }

  /** The executable filter, decided once per program; ruled-out processes are skipped by the kernel. */
  private processAllowed(e: HttpEvent): boolean {
    const tgid = e.tgid;
    if (tgid === this.lastTgid) return this.lastAllowed;
    let ok = this.allowed.get(tgid);
    if (ok === undefined) {
      // a process already gone is known by the thread name its connection's first record carries
      ok = (this.allowExecutable as (p: ProcessInfo) => boolean)(processInfo(tgid, e.comm));
      if (this.allowed.size > 65536) this.allowed.clear();
      this.allowed.set(tgid, ok);
      if (!ok) this.setSkipped(tgid, true);
    }
    this.lastTgid = tgid;
    this.lastAllowed = ok;
    return ok;
  }

  /** A process exec'd: its new program is judged on its next record. */
  private forgetProcess(tgid: number): void {
    if (tgid === this.lastTgid) this.lastTgid = -1;
    if (this.allowed.get(tgid) === false) this.setSkipped(tgid, false);
    this.allowed.delete(tgid);
  }

  /** Sets or clears the kernel's skip flag of a process: its bit, or beyond the bits its
   * skip_tgids entry. Only this thread writes them (no lost update). */
  private setSkipped(tgid: number, skip: boolean): void {
    const obj = this.obj;
    if (!obj) return;
    const key = Buffer.alloc(4);
    try {
      key.writeUInt32LE(tgid >>> 6);
      const word = obj.lookup('skip_bits', key);
      if (word) {
        const bit = 1n << BigInt(tgid & 63);
        const v = word.readBigUInt64LE(0);
        word.writeBigUInt64LE(skip ? v | bit : v & ~bit);
        obj.update('skip_bits', key, word);
        return;
      }
      key.writeUInt32LE(tgid);
      if (skip) obj.update('skip_tgids', key, Buffer.from([1]));
      else obj.delete('skip_tgids', key);
    } catch {
      // skip_tgids full: user space keeps filtering this process
    }
  }

  private exchange(x: Exchange): void {
    if (this.queued >= this.config.max_queued_spans) {
      this.bump(['http_dropped', 'span_queue_full'], 1);
      return;
    }
    const span = this.spans.span(x);
    let list = this.queue.get(x.conn.tgid);
    if (!list) {
      this.spans.resource(x.conn.tgid, x.conn.comm); // read /proc now: short-lived clients exit soon
      this.queue.set(x.conn.tgid, (list = []));
    }
    list.push(span);
    this.queued++;
  }

  private bump([name, reason]: [string, string?], n: number): void {
    const k = reason ? `${name}\0${reason}` : name;
    this.counts.set(k, (this.counts.get(k) ?? 0) + n);
  }

  private tick(): void {
    this.releaseHeld(false);
    const now = performance.now();
    if (now - this.lastSweep > 5000) {
      this.lastSweep = now;
      this.spans.syncClock();
      this.tracker.sweep();
    }
    this.reportKernel();
    this.reportCounts();
    if (!this.pushing && this.queued > 0) this.pushing = this.push().finally(() => { this.pushing = undefined; });
  }

  /** Pushes the queued spans; a refusal drops them with a count (the kernel cannot replay). */
  private async push(): Promise<void> {
    const consumer = this.next.traces;
    const byPid = this.queue;
    const n = this.queued;
    this.queue = new Map();
    this.queued = 0;
    if (!consumer || n === 0) return;
    const data = this.spans.batch(byPid);
    try {
      await consumer.consume(data);
      this.settings.telemetry.accepted('traces', n);
      this.bump(['http_spans_emitted'], n);
    } catch (e) {
      this.settings.telemetry.refused('traces', n);
      this.bump(['http_dropped', 'refused_downstream'], n);
      this.log.warn('ebpf_http spans refused downstream', { error: errorMessage(e), spans: n });
    }
  }

  private reportCounts(): void {
    if (this.nRequests > 0) this.bump(METRIC.requests, this.nRequests);
    if (this.nResponses > 0) this.bump(METRIC.responses, this.nResponses);
    if (this.nExchanges > 0) this.bump(METRIC.exchanges, this.nExchanges);
    this.nRequests = this.nResponses = this.nExchanges = 0;
    for (const [k, v] of this.counts) {
      const [name, reason] = k.split('\0') as [string, string?];
      this.settings.telemetry.count(name, v, reason ? { reason } : undefined);
    }
    this.counts.clear();
  }

  /** Kernel-side losses since the last report. */
  private reportKernel(): void {
    const obj = this.obj;
    if (!obj) return;
    try {
      const report = (reason: string, total: bigint): void => {
        const prev = this.kernelSeen.get(reason) ?? 0n;
        if (total > prev) {
          this.kernelSeen.set(reason, total);
          this.bump(['http_dropped', reason], Number(total - prev));
        }
      };
      report('ring_buffer_full', obj.kernelLost());
      report('inflight_map_full', obj.readU64('http_counters', KERNEL_COUNTERS.args_map_full));
      report('connection_map_full', obj.readU64('http_counters', KERNEL_COUNTERS.conn_map_full));
      report('tls_call_map_full', obj.readU64('http_counters', KERNEL_COUNTERS.tls_calls_map_full));
      const rs = this.reader?.stats();
      if (rs) report('reader_queue_full', BigInt(rs.droppedRecords));
    } catch (e) {
      this.log.debug('ebpf_http kernel counters unreadable', { error: errorMessage(e) });
    }
  }

  /** Kernel counters for tests and `sonde doctor`-style tools. */
  kernelCounters(): Record<keyof typeof KERNEL_COUNTERS | 'lost', bigint> {
    const obj = this.obj;
    const read = (i: number): bigint => (obj ? obj.readU64('http_counters', i) : 0n);
    return {
      events: read(KERNEL_COUNTERS.events),
      conns: read(KERNEL_COUNTERS.conns),
      conn_map_full: read(KERNEL_COUNTERS.conn_map_full),
      args_map_full: read(KERNEL_COUNTERS.args_map_full),
      port_filtered: read(KERNEL_COUNTERS.port_filtered),
      tls_conns: read(KERNEL_COUNTERS.tls_conns),
      tls_no_socket: read(KERNEL_COUNTERS.tls_no_socket),
      tls_calls_map_full: read(KERNEL_COUNTERS.tls_calls_map_full),
      lost: obj ? obj.kernelLost() : 0n,
    };
  }

  /** Delivers everything the kernel has already handed over, then pushes (tests, shutdown). */
  async flush(): Promise<void> {
    this.releaseHeld(true);
    await this.pushing;
    this.reportKernel();
    this.reportCounts();
    if (this.queued > 0) await (this.pushing = this.push().finally(() => { this.pushing = undefined; }));
    this.reportCounts();
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.tls?.close();
    // stop intake first: the reader drains the ring, its last batches still reach the tracker
    if (this.reader) await this.reader.close();
    this.reader = undefined;
    this.releaseHeld(true);
    this.reportKernel();
    this.tracker.clear();
    await this.flush();
    this.obj?.close();
    this.obj = undefined;
  }
}

export function createEbpfHttpReceiver(settings: Settings, config: EbpfHttpConfig, next: SignalConsumers): Component {
  return new EbpfHttpReceiver(settings, config, next);
}
