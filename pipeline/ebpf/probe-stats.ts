// The maps of bpf/probe_count.bpf.c, read from user space. Layouts mirror bpf/probe_count.h
// (the integration test checks the sizes against the object's BTF-derived map specs).

export const PROBE_KEY_SIZE = 16;
export const PROBE_SLOTS = 64;
export const PROBE_STATS_SIZE = 4 * 8 + 16 + PROBE_SLOTS * 8; // 560
export const PROBE_MAX_PIDS = 16;

export interface ProbeKey {
  tgid: number;
  /** 0 unless the probe keys by cgroup */
  cgroupId: bigint;
}

export interface ProbeStats {
  calls: bigint;
  returns: bigint;
  sumNs: bigint;
  /** bpf_ktime_get_ns() when the kernel created the series */
  firstNs: bigint;
  comm: string;
  /** see SONDE_PROBE_SLOTS: [0] zero durations, [k >= 1] exponential bucket index k - 2 */
  hist: bigint[];
}

export function decodeProbeKey(b: Buffer): ProbeKey {
  return { tgid: b.readUInt32LE(0), cgroupId: b.readBigUInt64LE(8) };
}

export function encodeProbeKey(k: ProbeKey): Buffer {
  const b = Buffer.alloc(PROBE_KEY_SIZE);
  b.writeUInt32LE(k.tgid, 0);
  b.writeBigUInt64LE(k.cgroupId, 8);
  return b;
}

export function decodeProbeStats(b: Buffer): ProbeStats {
  const commBytes = b.subarray(32, 48);
  const nul = commBytes.indexOf(0);
  const hist: bigint[] = new Array<bigint>(PROBE_SLOTS);
  for (let i = 0; i < PROBE_SLOTS; i++) hist[i] = b.readBigUInt64LE(48 + i * 8);
  return {
    calls: b.readBigUInt64LE(0),
    returns: b.readBigUInt64LE(8),
    sumNs: b.readBigUInt64LE(16),
    firstNs: b.readBigUInt64LE(24),
    comm: commBytes.subarray(0, nul < 0 ? commBytes.length : nul).toString('utf8'),
    hist,
  };
}

/** Program names in the object, per attach kind: [entry, return]. */
export const PROBE_PROGRAMS = {
  tracepoint: ['tracepoint__probe_enter', 'tracepoint__probe_return'],
  kprobe: ['kprobe__probe_enter', 'kretprobe__probe_return'],
  fentry: ['fentry__probe_enter', 'fexit__probe_return'],
  uprobe: ['uprobe__probe_enter', 'uretprobe__probe_return'],
} as const;

export const PROBE_OBJECT = 'probe_count';
