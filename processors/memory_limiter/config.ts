// The memory_limiter processor's config: the Collector's option names, defaults and checks.
import { error, s, warning, type ConfigIssue, type Infer } from '../../pipeline/config/schema';

export const configSchema = s.object({
  /** How often memory is measured; required, as in the Collector (1s is the usual choice). */
  check_interval: s.duration(),
  /** Hard limit in MiB; wins over limit_percentage when both are set. */
  limit_mib: s.int({ default: 0, min: 0 }),
  /** Headroom between the soft and the hard limit; 0 = 20% of the limit. */
  spike_limit_mib: s.int({ default: 0, min: 0 }),
  /** Hard limit as a percentage of total memory (the cgroup limit when one is set). */
  limit_percentage: s.int({ default: 0, min: 0, max: 100 }),
  spike_limit_percentage: s.int({ default: 0, min: 0, max: 100 }),
  /** A GC is forced at most this often while above the soft limit. */
  min_gc_interval_when_soft_limited: s.duration({ default: '10s' }),
  /** ... and this often above the hard limit (0 = at every check). */
  min_gc_interval_when_hard_limited: s.duration({ default: 0 }),
}, {
  ignored: {
    ballast_size_mib: 'Node has no memory ballast; the limit applies to the resident set (RSS)',
  },
});

export type MemoryLimiterConfig = Infer<typeof configSchema>;

export function validate(c: MemoryLimiterConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  // A missing check_interval is reported by the schema already.
  if (typeof c.check_interval === 'number' && c.check_interval <= 0) issues.push(error(['check_interval'], 'must be greater than zero'));
  if (c.limit_mib === 0 && c.limit_percentage === 0) issues.push(error([], '"limit_mib" or "limit_percentage" must be greater than zero'));
  if (c.limit_mib > 0 && c.spike_limit_mib >= c.limit_mib) {
    issues.push(error(['spike_limit_mib'], `must be smaller than limit_mib (${c.limit_mib}), got ${c.spike_limit_mib}`));
  }
  if (c.limit_mib === 0 && c.limit_percentage > 0 && c.spike_limit_percentage >= c.limit_percentage) {
    issues.push(error(['spike_limit_percentage'], `must be smaller than limit_percentage (${c.limit_percentage}), got ${c.spike_limit_percentage}`));
  }
  if (c.min_gc_interval_when_soft_limited < c.min_gc_interval_when_hard_limited) {
    issues.push(error(['min_gc_interval_when_soft_limited'], 'must be at least min_gc_interval_when_hard_limited'));
  }
  if (c.limit_mib > 0 && c.limit_percentage > 0) issues.push(warning(['limit_percentage'], 'ignored: limit_mib is set', true));
  if (c.limit_mib > 0 && c.spike_limit_percentage > 0) issues.push(warning(['spike_limit_percentage'], 'ignored: limit_mib is set, use spike_limit_mib', true));
  if (c.limit_mib === 0 && c.spike_limit_mib > 0) issues.push(warning(['spike_limit_mib'], 'ignored: the limit is a percentage, use spike_limit_percentage', true));
  return issues;
}

const MiB = 1024 * 1024;

export interface Limits {
  /** Hard limit in bytes: above it a GC is forced. */
  hard: number;
  /** Soft limit in bytes (hard - spike): above it data is refused. */
  soft: number;
}

/** The limits in bytes; `totalMemory` is read only for the percentage form. */
export function limitsOf(c: MemoryLimiterConfig, totalMemory: () => number): Limits {
  let hard: number;
  let spike: number;
  if (c.limit_mib > 0) {
    hard = c.limit_mib * MiB;
    spike = c.spike_limit_mib * MiB;
  } else {
    const total = totalMemory();
    hard = Math.floor(total * c.limit_percentage / 100);
    spike = Math.floor(total * c.spike_limit_percentage / 100);
  }
  if (spike === 0) spike = Math.floor(hard / 5);
  return { hard, soft: hard - spike };
}
