// What this kernel lets Sonde do, found out by trying: every attach kind is loaded and attached
// with a tiny real program (bpf/feature_probe.bpf.c), never guessed from the kernel version.
// `sonde doctor` prints the report; receivers and tests use it to fail or skip with the reason.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { functionOffsets } from '../pipeline/ebpf/elf';
import { resolveLibrary } from '../pipeline/ebpf/libraries';
import { listPids, mappedFiles } from '../pipeline/ebpf/proc';
import { NotSupportedError } from './errors';
import { addonStatus, BpfObject, bpfObjectPath } from './index';
import type { Link } from './index';
import { isMounted, readCapabilities, readLockdown } from './system';
import type { Capabilities, LockdownMode } from './system';

export type AttachKind = 'tracepoint' | 'raw_tracepoint' | 'kprobe' | 'fentry' | 'uprobe' | 'perf_event' | 'ringbuf';

export const ATTACH_KINDS: readonly AttachKind[] = [
  'tracepoint',
  'raw_tracepoint',
  'kprobe',
  'fentry',
  'uprobe',
  'perf_event',
  'ringbuf',
];

export interface AttachSupport {
  supported: boolean;
  /** why not (errno text, libbpf's cause, and what it means here) */
  reason?: string;
}

export interface MountStatus {
  path: string;
  type: string;
  mounted: boolean;
  /** this probe mounted it (root, and it was missing) */
  mountedNow?: boolean;
  error?: string;
}

export interface FeatureReport {
  kernel: { release: string; version: string; machine: string };
  btf: { present: boolean; path: string };
  lockdown: LockdownMode;
  uid: number;
  capabilities: Capabilities;
  mounts: { tracefs: MountStatus; bpffs: MountStatus; securityfs: MountStatus };
  addon: { loaded: boolean; libbpf?: string; error?: string };
  attach: Record<AttachKind, AttachSupport>;
  /** only when asked for (ProbeOptions.tls): it reads every running executable's symbols */
  tls?: TlsReadiness;
}

/** A binary that defines OpenSSL's SSL_read/SSL_write (what ebpf_http's uprobes attach to). */
export interface TlsBinaryStatus {
  path: string;
  /** the SSL functions it defines, of SSL_read, SSL_read_ex, SSL_write, SSL_write_ex, SSL_free */
  symbols: string[];
  /** running processes using it (a few, as examples) */
  pids: number[];
}

/** Whether ebpf_http can trace HTTPS here: uprobes, and binaries to put them on. */
export interface TlsReadiness {
  /** uprobes attach (attach.uprobe) and at least one OpenSSL binary was found */
  ready: boolean;
  uprobes: boolean;
  /** the system's libssl.so.3 */
  libssl: { found: boolean; path?: string; symbols?: string[]; error?: string };
  /** other libssl.so* files running processes map (containers' copies, OpenSSL 1.1) */
  libraries: TlsBinaryStatus[];
  /** executables that link OpenSSL statically (node...), among running processes and this runtime */
  executables: TlsBinaryStatus[];
  /** processes looked at */
  processes: number;
}

const TLS_SYMBOLS = ['SSL_read', 'SSL_read_ex', 'SSL_write', 'SSL_write_ex', 'SSL_free'];
const LIBSSL = /^libssl\.so(\.\d+)*$/;
const MAX_EXAMPLE_PIDS = 5;

/**
 * The same discovery ebpf_http does at start (tls.ts): the system's libssl.so.3, then every
 * process's executable and mapped libssl, each distinct file (device:inode) read once.
 */
export function probeTls(uprobe: AttachSupport): TlsReadiness {
  const sslSymbols = (file: string): string[] | undefined => {
    try {
      const f = functionOffsets(file, TLS_SYMBOLS);
      return f.has('SSL_read') && f.has('SSL_write') ? [...f.keys()].sort() : undefined;
    } catch {
      return undefined; // not a readable 64-bit ELF: nothing to probe
    }
  };
  const libssl: TlsReadiness['libssl'] = { found: false };
  let systemKey: string | undefined;
  try {
    const p = resolveLibrary('libssl.so.3');
    const symbols = sslSymbols(p);
    Object.assign(libssl, symbols ? { found: true, path: p, symbols } : { path: p, error: 'defines no SSL_read/SSL_write' });
    const st = fs.statSync(p);
    systemKey = `${st.dev}:${st.ino}`;
  } catch (e) {
    libssl.error = e instanceof Error ? e.message : String(e);
  }
  const seen = new Map<string, TlsBinaryStatus | null>();
  const libraries: TlsBinaryStatus[] = [];
  const executables: TlsBinaryStatus[] = [];
  const consider = (file: string, shown: string, pid: number, into: TlsBinaryStatus[]): void => {
    let key: string;
    try {
      const st = fs.statSync(file);
      if (!st.isFile()) return;
      key = `${st.dev}:${st.ino}`;
    } catch {
      return; // the process is gone
    }
    if (key === systemKey) return;
    let b = seen.get(key);
    if (b === undefined) {
      const symbols = sslSymbols(file);
      b = symbols ? { path: shown, symbols, pids: [] } : null;
      seen.set(key, b);
      if (b) into.push(b);
    }
    if (b && b.pids.length < MAX_EXAMPLE_PIDS) b.pids.push(pid);
  };
  const pids = listPids();
  for (const pid of pids) {
    let exe: string;
    try {
      exe = fs.readlinkSync(`/proc/${pid}/exe`);
    } catch {
      continue; // kernel thread, or gone
    }
    consider(`/proc/${pid}/exe`, exe, pid, executables);
    for (const f of mappedFiles(pid)) {
      if (LIBSSL.test(path.basename(f))) consider(`/proc/${pid}/root${f}`, f, pid, libraries);
    }
  }
  return {
    ready: uprobe.supported && (libssl.found || libraries.length > 0 || executables.length > 0),
    uprobes: uprobe.supported,
    libssl,
    libraries,
    executables,
    processes: pids.length,
  };
}

export const BTF_PATH = '/sys/kernel/btf/vmlinux';
const TRACEFS = '/sys/kernel/tracing';

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 10_000 }, (err, _out, stderr) =>
      err ? reject(new Error(stderr.trim() || err.message)) : resolve(),
    );
  });
}

async function ensureMount(type: string, dir: string, mount: boolean): Promise<MountStatus> {
  const st: MountStatus = { path: dir, type, mounted: isMounted(dir, type) };
  if (st.mounted || !mount || process.getuid?.() !== 0) return st;
  try {
    await fs.promises.mkdir(dir, { recursive: true }).catch(() => undefined);
    await run('mount', ['-t', type, type, dir]);
    st.mounted = isMounted(dir, type);
    st.mountedNow = st.mounted;
  } catch (e) {
    st.error = e instanceof Error ? e.message : String(e);
  }
  return st;
}

function libcPath(): string | undefined {
  try {
    for (const line of fs.readFileSync('/proc/self/maps', 'utf8').split('\n')) {
      const m = /\s(\/\S*\/libc\.so[.\d]*)$/.exec(line);
      if (m?.[1]) return m[1];
    }
  } catch {
    // no /proc
  }
  return undefined;
}

interface ProbeSpec {
  program: string;
  attach: (o: BpfObject) => Link;
}

const PROBES: Record<AttachKind, ProbeSpec> = {
  tracepoint: {
    program: 'tracepoint__syscalls__sys_enter_getppid',
    attach: (o) => o.attachTracepoint('tracepoint__syscalls__sys_enter_getppid', 'syscalls', 'sys_enter_getppid'),
  },
  raw_tracepoint: {
    program: 'raw_tracepoint__sys_enter',
    attach: (o) => o.attachRawTracepoint('raw_tracepoint__sys_enter', 'sys_enter'),
  },
  kprobe: { program: 'kprobe__vfs_read', attach: (o) => o.attachKprobe('kprobe__vfs_read', 'vfs_read') },
  fentry: { program: 'fentry__vfs_read', attach: (o) => o.attachTrace('fentry__vfs_read') },
  uprobe: {
    program: 'uprobe__probe',
    attach: (o) => {
      const libc = libcPath();
      if (!libc) throw new Error('no libc mapped in this process to probe');
      // only this process, and only for the instant it is attached
      return o.attachUprobe('uprobe__probe', { binary: libc, symbol: 'getppid', pid: process.pid });
    },
  },
  perf_event: {
    program: 'perf_event__probe',
    attach: (o) => o.attachPerfEvent('perf_event__probe', { frequency: 1, cpus: [0] }),
  },
  ringbuf: {
    program: 'ringbuf__probe',
    attach: (o) => o.attachTracepoint('ringbuf__probe', 'syscalls', 'sys_enter_getppid'),
  },
};

function errorCode(e: unknown): string {
  const c = (e as { code?: unknown } | undefined)?.code;
  return typeof c === 'string' ? c : '';
}

/** What a failure means on this machine, when the errno alone does not say it. */
function hint(kind: AttachKind, e: unknown, lockdown: LockdownMode, tracefsMounted: boolean): string | undefined {
  const code = errorCode(e);
  if (kind === 'kprobe' && !fs.existsSync('/sys/bus/event_source/devices/kprobe') &&
      !fs.existsSync(`${TRACEFS}/kprobe_events`)) {
    return 'the kernel is built without kprobes (CONFIG_KPROBES: no kprobe PMU, no kprobe_events)';
  }
  if (kind === 'fentry' && (code === 'EPERM' || code === 'EACCES') &&
      (lockdown === 'integrity' || lockdown === 'confidentiality')) {
    return `fentry/fexit refused under kernel lockdown '${lockdown}'`;
  }
  if (kind === 'fentry' && (code === 'ENOTSUP' || code === 'EOPNOTSUPP' || (e as { errno?: unknown })?.errno === 524)) {
    return 'no BPF trampolines on this kernel/architecture';
  }
  if ((kind === 'tracepoint' || kind === 'ringbuf') && !tracefsMounted) {
    return `tracefs is not mounted at ${TRACEFS}`;
  }
  return undefined;
}

function probeKind(kind: AttachKind, lockdown: LockdownMode, tracefsMounted: boolean): AttachSupport {
  const spec = PROBES[kind];
  let obj: BpfObject | undefined;
  try {
    obj = new BpfObject(bpfObjectPath('feature_probe'));
    obj.keepOnly(spec.program);
    obj.setMapAutocreate('probe_ring', kind === 'ringbuf');
    obj.load();
    spec.attach(obj).close();
    return { supported: true };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const h = hint(kind, e, lockdown, tracefsMounted);
    return { supported: false, reason: h ? `${h} (${msg})` : msg };
  } finally {
    obj?.close();
  }
}

let cached: Promise<FeatureReport> | undefined;

export interface ProbeOptions {
  /** mount tracefs/bpffs/securityfs when root and missing (default true) */
  mount?: boolean;
  /** probe again instead of returning the first result of this process */
  fresh?: boolean;
  /** add the TLS readiness (`sonde doctor`): a scan of every process's binaries */
  tls?: boolean;
}

export function probeFeatures(opts: ProbeOptions = {}): Promise<FeatureReport> {
  if (!cached || opts.fresh) cached = doProbe(opts.mount ?? true);
  if (!opts.tls) return cached;
  return cached.then((r) => {
    r.tls ??= probeTls(r.attach.uprobe);
    return r;
  });
}

async function doProbe(mount: boolean): Promise<FeatureReport> {
  const securityfs = await ensureMount('securityfs', '/sys/kernel/security', mount);
  const tracefs = await ensureMount('tracefs', TRACEFS, mount);
  const bpffs = await ensureMount('bpf', '/sys/fs/bpf', mount);
  const lockdown = readLockdown();
  const addon = addonStatus();
  const attach = {} as Record<AttachKind, AttachSupport>;
  for (const kind of ATTACH_KINDS) {
    attach[kind] = addon.ok
      ? probeKind(kind, lockdown, tracefs.mounted)
      : { supported: false, reason: `the eBPF addon is not available: ${addon.error.message}` };
  }
  const report: FeatureReport = {
    kernel: { release: os.release(), version: os.version(), machine: os.machine() },
    btf: { present: fs.existsSync(BTF_PATH), path: BTF_PATH },
    lockdown,
    uid: process.getuid?.() ?? -1,
    capabilities: readCapabilities(),
    mounts: { tracefs, bpffs, securityfs },
    addon: addon.ok ? { loaded: true, libbpf: addon.libbpf } : { loaded: false, error: addon.error.message },
    attach,
  };
  return report;
}

/** Throws NotSupportedError with the probe's reason unless `kind` works here. */
export function requireAttach(report: FeatureReport, kind: AttachKind): void {
  const a = report.attach[kind];
  if (!a.supported) throw new NotSupportedError(kind, a.reason ?? 'unknown reason');
}

function mountLine(m: MountStatus): string {
  if (m.mounted) return `mounted at ${m.path}${m.mountedNow ? ' (mounted now)' : ''}`;
  return `NOT mounted at ${m.path}${m.error ? ` (${m.error})` : ' (run as root, or: mount -t ' + m.type + ' ' + m.type + ' ' + m.path + ')'}`;
}

const yes = (b: boolean): string => (b ? 'yes' : 'no');

/** The human form of `sonde doctor`. */
export function formatDoctor(r: FeatureReport): string {
  const c = r.capabilities;
  const lines = [
    'Sonde doctor: what this kernel allows',
    `  kernel      ${r.kernel.release} ${r.kernel.machine} (${r.kernel.version})`,
    `  BTF         ${r.btf.present ? `yes (${r.btf.path})` : `no: ${r.btf.path} is missing (CO-RE programs need a kernel built with CONFIG_DEBUG_INFO_BTF)`}`,
    `  lockdown    ${r.lockdown}${r.lockdown === 'unknown' ? ' (securityfs not mounted or no lockdown LSM)' : ''}`,
    `  user        uid ${r.uid}; CAP_BPF ${yes(c.CAP_BPF)}, CAP_PERFMON ${yes(c.CAP_PERFMON)}, CAP_SYS_ADMIN ${yes(c.CAP_SYS_ADMIN)}`,
    `  tracefs     ${mountLine(r.mounts.tracefs)}`,
    `  bpffs       ${mountLine(r.mounts.bpffs)}`,
    `  securityfs  ${mountLine(r.mounts.securityfs)}`,
    `  addon       ${r.addon.loaded ? `loaded (libbpf ${r.addon.libbpf ?? '?'})` : `NOT loaded: ${r.addon.error ?? ''}`}`,
    'attach kinds (each tried with a real program):',
  ];
  for (const k of ATTACH_KINDS) {
    const a = r.attach[k];
    lines.push(`  ${k.padEnd(15)} ${a.supported ? 'ok' : `no: ${a.reason ?? ''}`}`);
  }
  if (r.tls) lines.push(...formatTls(r.tls, r.attach.uprobe));
  return lines.join('\n');
}

const pidList = (b: TlsBinaryStatus): string => `pid${b.pids.length > 1 ? 's' : ''} ${b.pids.join(',')}${b.pids.length >= MAX_EXAMPLE_PIDS ? ',...' : ''}`;

/** The TLS part of `sonde doctor`: can ebpf_http see HTTPS plaintext, and in which binaries. */
function formatTls(t: TlsReadiness, uprobe: AttachSupport): string[] {
  const verdict = t.ready
    ? 'yes'
    : !t.uprobes
      ? `no: uprobes do not attach (${uprobe.reason ?? 'unknown reason'}); only plaintext HTTP is traced`
      : 'no OpenSSL binary found yet: processes that load libssl or link OpenSSL statically later are picked up when they start';
  const lines = [
    'TLS (ebpf_http: uprobes on SSL_read/SSL_write):',
    `  HTTPS       ${verdict}`,
    `  uprobes     ${t.uprobes ? 'ok' : 'no'}`,
    `  libssl.so.3 ${t.libssl.found ? `${t.libssl.path ?? ''} (${(t.libssl.symbols ?? []).join(', ')})` : `not found: ${t.libssl.error ?? ''}`}`,
  ];
  for (const b of t.libraries) lines.push(`  library     ${b.path} (${b.symbols.join(', ')}; ${pidList(b)})`);
  for (const b of t.executables) lines.push(`  static      ${b.path} (OpenSSL linked in: ${b.symbols.join(', ')}; ${pidList(b)})`);
  if (t.executables.length === 0) lines.push(`  static      none among ${t.processes} processes (node, for one, links OpenSSL statically)`);
  return lines;
}

/** The machine form of `sonde doctor --json`. */
export function doctorJson(r: FeatureReport): string {
  return JSON.stringify(r, null, 2);
}
