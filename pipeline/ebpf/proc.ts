// Process and cgroup facts from /proc and the cgroup v2 mount, for eBPF receivers that key
// kernel data by tgid and cgroup id. Reads only; every miss is `undefined`, never a throw.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ProcessInfo {
  pid: number;
  /** basename of /proc/<pid>/exe, else the kernel's comm (15 characters) */
  executableName: string;
  /** target of /proc/<pid>/exe, when readable */
  executablePath?: string;
}

/** What the kernel says a process is; `comm` is the fallback when /proc has nothing any more. */
export function processInfo(pid: number, comm = ''): ProcessInfo {
  const exe = readLink(`/proc/${pid}/exe`);
  if (exe) return { pid, executableName: path.basename(exe.replace(/ \(deleted\)$/, '')), executablePath: exe };
  const name = comm || readText(`/proc/${pid}/comm`)?.trim() || '';
  return { pid, executableName: name };
}

/** False once the process is gone or a zombie (it can run no more code). */
export function processAlive(pid: number): boolean {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return false;
  // "pid (comm) S ...": the comm may hold spaces and parentheses, the state follows the last ')'
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** The files a process has mapped (paths as its mount namespace sees them), each once. */
export function mappedFiles(pid: number): string[] {
  const text = readText(`/proc/${pid}/maps`);
  if (!text) return [];
  const files = new Set<string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf('/');
    if (at > 0) files.add(line.slice(at).replace(/ \(deleted\)$/, ''));
  }
  return [...files];
}

/** Pids of the processes alive now (the numeric entries of /proc). */
export function listPids(): number[] {
  try {
    return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
  } catch {
    return [];
  }
}

function readLink(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}

function readText(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

// ---- cgroup v2 -------------------------------------------------------------------------------

/** Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or .../unified on hybrid hosts). */
export function cgroup2Mount(mounts = '/proc/self/mounts'): string | undefined {
  const text = readText(mounts) ?? '';
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f[2] === 'cgroup2' && f[1]) return f[1];
  }
  return undefined;
}

export interface CgroupRef {
  /** the kernel's cgroup id: the directory's inode number in cgroupfs */
  id: bigint;
  /** depth below the root ("/" = 0, "/a/b" = 2): what bpf_get_current_ancestor_cgroup_id takes */
  level: number;
  /** path relative to the v2 root, "/kubepods.slice/..." */
  path: string;
}

/** Normalises "kubepods.slice//x/" to "/kubepods.slice/x". */
export function normaliseCgroupPath(p: string): string {
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  return '/' + parts.join('/');
}

/** A cgroup path (relative to the v2 root, or absolute under the mount) to its id and level. */
export function resolveCgroup(p: string, mount = cgroup2Mount()): CgroupRef {
  if (!mount) throw new Error('no cgroup v2 hierarchy is mounted (no cgroup2 entry in /proc/self/mounts)');
  const rel = normaliseCgroupPath(p.startsWith(mount + '/') ? p.slice(mount.length) : p);
  const dir = path.join(mount, rel);
  let st: fs.BigIntStats;
  try {
    st = fs.statSync(dir, { bigint: true });
  } catch (e) {
    throw new Error(`cgroup ${rel} does not exist (${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (!st.isDirectory()) throw new Error(`cgroup ${rel}: ${dir} is not a directory`);
  return { id: st.ino, level: rel === '/' ? 0 : rel.split('/').length - 1, path: rel };
}

/**
 * Cgroup id -> path, by walking the v2 hierarchy. The walk is repeated only when an unknown id
 * turns up, at most once per `minRescanMs`, so a churn of new pods costs one walk per interval.
 */
export class CgroupPaths {
  private readonly byId = new Map<bigint, string>();
  private lastWalk = -Infinity;

  constructor(
    private readonly mount = cgroup2Mount(),
    private readonly minRescanMs = 1000,
    /** bound on directories visited per walk */
    private readonly maxDirs = 100_000,
  ) {}

  pathOf(id: bigint): string | undefined {
    const hit = this.byId.get(id);
    if (hit !== undefined || !this.mount) return hit;
    if (performance.now() - this.lastWalk < this.minRescanMs) return undefined;
    this.walk();
    return this.byId.get(id);
  }

  private walk(): void {
    this.lastWalk = performance.now();
    this.byId.clear();
    const root = this.mount as string;
    const stack = ['/'];
    let visited = 0;
    while (stack.length > 0 && visited++ < this.maxDirs) {
      const rel = stack.pop() as string;
      const dir = path.join(root, rel);
      try {
        this.byId.set(fs.statSync(dir, { bigint: true }).ino, rel);
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
          if (e.isDirectory()) stack.push(rel === '/' ? `/${e.name}` : `${rel}/${e.name}`);
        }
      } catch {
        // removed while we walked
      }
    }
  }
}

// ---- executables -----------------------------------------------------------------------------

/** A glob over executable names ("nginx", "python3*") or, with a '/', over full paths. */
export function executableMatcher(patterns: readonly string[]): (p: ProcessInfo) => boolean {
  const compiled = patterns.map((g) => ({ full: g.includes('/'), re: globToRegExp(g) }));
  return (p) => compiled.some((c) => (c.full ? c.re.test(p.executablePath ?? '') : c.re.test(p.executableName)));
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
