// Finding a shared library by name, the way a user thinks of it: the copy a given process has
// mapped, else what the dynamic loader would pick (ld.so.cache), else the usual directories.
// Shared by the eBPF receivers (moved here from receivers/uprobe/resolve.ts).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const COMMON_DIRS = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib'];

function multiarchDirs(): string[] {
  const triple = process.arch === 'arm64' ? 'aarch64-linux-gnu' : process.arch === 'x64' ? 'x86_64-linux-gnu' : undefined;
  return triple ? [`/lib/${triple}`, `/usr/lib/${triple}`] : [];
}

/** A file mapped by `pid` whose basename is `name` (or starts with `name.`). */
function fromMaps(pid: number, name: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const file = line.slice(line.indexOf('/'));
    const base = path.basename(file);
    if (line.includes('/') && (base === name || base.startsWith(`${name}.`))) return file;
  }
  return undefined;
}

/** `ldconfig -p`: "\tlibssl.so.3 (libc6,x86-64) => /lib/x86_64-linux-gnu/libssl.so.3". */
function fromLdCache(name: string): string | undefined {
  let out: string;
  try {
    out = execFileSync(fs.existsSync('/sbin/ldconfig') ? '/sbin/ldconfig' : 'ldconfig', ['-p'], { encoding: 'utf8', timeout: 5000 });
  } catch {
    return undefined;
  }
  for (const line of out.split('\n')) {
    const m = /^\s*(\S+) \(([^)]*)\) => (\S+)$/.exec(line);
    if (!m || (m[1] !== name && !m[1]?.startsWith(`${name}.`))) continue;
    if (process.arch === 'x64' && !m[2]?.includes('x86-64')) continue;
    return m[3];
  }
  return undefined;
}

/** The path of library `name`, or an error listing where it looked. */
export function resolveLibrary(name: string, pid?: number): string {
  const mapped = pid !== undefined ? fromMaps(pid, name) : undefined;
  if (mapped) return mapped;
  const cached = fromLdCache(name);
  if (cached && fs.existsSync(cached)) return cached;
  const dirs = [...multiarchDirs(), ...COMMON_DIRS];
  for (const d of dirs) {
    const p = path.join(d, name);
    if (fs.existsSync(p)) return p;
  }
  const where = [pid !== undefined ? `the mappings of pid ${pid}` : '', 'ld.so.cache', ...dirs].filter(Boolean).join(', ');
  throw new Error(`library ${name} not found (looked in ${where})`);
}
