// What this process may do with eBPF, read from /proc and /sys (no addon needed).
import * as fs from 'node:fs';

export const CAP_SYS_ADMIN = 21;
export const CAP_PERFMON = 38;
export const CAP_BPF = 39;

export interface Capabilities {
  CAP_BPF: boolean;
  CAP_PERFMON: boolean;
  CAP_SYS_ADMIN: boolean;
  /** CapEff from /proc/self/status, hex */
  effective: string;
}

export function readCapabilities(statusPath = '/proc/self/status'): Capabilities {
  let eff = 0n;
  let hex = '0';
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(statusPath, 'utf8'));
    if (m?.[1] !== undefined) {
      hex = m[1];
      eff = BigInt(`0x${m[1]}`);
    }
  } catch {
    // no /proc: report nothing
  }
  const has = (bit: number): boolean => ((eff >> BigInt(bit)) & 1n) === 1n;
  return { CAP_BPF: has(CAP_BPF), CAP_PERFMON: has(CAP_PERFMON), CAP_SYS_ADMIN: has(CAP_SYS_ADMIN), effective: hex };
}

/** Loading tracing programs needs CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN. */
export function missingCapabilities(caps: Capabilities = readCapabilities()): string[] {
  if (caps.CAP_SYS_ADMIN) return [];
  const missing: string[] = [];
  if (!caps.CAP_BPF) missing.push('CAP_BPF');
  if (!caps.CAP_PERFMON) missing.push('CAP_PERFMON');
  return missing;
}

export type LockdownMode = 'none' | 'integrity' | 'confidentiality' | 'unknown';

export const LOCKDOWN_PATH = '/sys/kernel/security/lockdown';

/** The kernel lockdown mode ("none [integrity] confidentiality" -> integrity); needs securityfs. */
export function readLockdown(path = LOCKDOWN_PATH): LockdownMode {
  try {
    const m = /\[(\w+)\]/.exec(fs.readFileSync(path, 'utf8'));
    const mode = m?.[1];
    if (mode === 'none' || mode === 'integrity' || mode === 'confidentiality') return mode;
  } catch {
    // securityfs not mounted, or no lockdown LSM
  }
  return 'unknown';
}

/** Whether a file system of `type` is mounted at `dir` (from /proc/self/mounts). */
export function isMounted(dir: string, type?: string): boolean {
  try {
    for (const line of fs.readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
      const f = line.split(' ');
      if (f[1] === dir && (type === undefined || f[2] === type)) return true;
    }
  } catch {
    // no /proc
  }
  return false;
}

/** A hint to append to a permission error: what this process lacks. */
export function permissionHint(): string {
  const missing = missingCapabilities();
  const uid = process.getuid?.() ?? -1;
  if (missing.length > 0) {
    return `needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); this process (uid ${uid}) lacks ${missing.join(', ')}: run as root or grant them (setcap cap_bpf,cap_perfmon+ep, or securityContext.capabilities in Kubernetes)`;
  }
  const lockdown = readLockdown();
  if (lockdown === 'integrity' || lockdown === 'confidentiality') {
    return `refused although this process has the capabilities: kernel lockdown is '${lockdown}'`;
  }
  return 'refused although this process has the capabilities (LSM policy or sysctl?)';
}
