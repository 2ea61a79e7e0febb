// Config keys every generic probe receiver (tracepoint, kprobe, uprobe) shares, with their
// defaults and checks. Each receiver adds what it probes.
import { error, s, type ConfigIssue, type Infer, type Path } from '../config/schema';
import { PROBE_MAX_PIDS } from './probe-stats';

export const filterSchema = s.object({
  /** only these processes (tgids), at most 16; checked in the kernel */
  pids: s.array(s.int({ min: 1 })),
  /** globs over executable names ("nginx", "python3*") or, with a '/', full paths; checked in user space */
  executables: s.array(s.string({ nonEmpty: true })),
  /** only processes in this cgroup v2 subtree ("/kubepods.slice/..."); checked in the kernel */
  cgroup_path: s.optional(s.string({ nonEmpty: true })),
});

export type ProbeFilterConfig = Infer<typeof filterSchema>;

/** The shared fields; `type` names the default metric prefix (sonde.<type>). */
export function probeCommonFields(type: string) {
  return {
    collection_interval: s.duration({ default: '10s' }),
    filter: filterSchema,
    /** one series per (process, cgroup) with a process.linux.cgroup attribute */
    per_cgroup: s.bool({ default: false }),
    /** capacity of the kernel's series map; events of further series are counted as dropped */
    max_processes: s.int({ default: 10240, min: 1, max: 1 << 20 }),
    /** metric names: <prefix>.calls and <prefix>.duration */
    metric_prefix: s.string({ default: `sonde.${type}`, nonEmpty: true }),
  };
}

export interface ProbeCommonConfig {
  collection_interval: number;
  filter: ProbeFilterConfig;
  per_cgroup: boolean;
  max_processes: number;
  metric_prefix: string;
}

export function validateCommon(c: ProbeCommonConfig, base: Path = []): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (c.collection_interval < 100) issues.push(error([...base, 'collection_interval'], 'must be at least 100ms'));
  if (c.filter.pids.length > PROBE_MAX_PIDS) issues.push(error([...base, 'filter', 'pids'], `at most ${PROBE_MAX_PIDS} pids (use cgroup_path or executables for more)`));
  if (c.filter.cgroup_path !== undefined && !c.filter.cgroup_path.startsWith('/')) {
    issues.push(error([...base, 'filter', 'cgroup_path'], 'must start with "/" (a path in the cgroup v2 hierarchy)'));
  }
  return issues;
}
