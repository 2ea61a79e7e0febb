// The tracepoint receiver's config: which tracepoint (category/name), optionally a second one
// that closes each call (pairing by thread gives latency), and the shared probe keys.
import { error, s, type ConfigIssue, type Infer } from '../../pipeline/config/schema';
import { probeCommonFields, validateCommon } from '../../pipeline/ebpf/probe-config';

export const configSchema = s.object({
  /** "category/name" as under /sys/kernel/tracing/events, e.g. syscalls/sys_enter_write */
  tracepoint: s.string({ nonEmpty: true }),
  /** optional: the tracepoint where each call ends (syscalls/sys_exit_write); adds latency */
  return_tracepoint: s.optional(s.string({ nonEmpty: true })),
  ...probeCommonFields('tracepoint'),
});

export type TracepointReceiverConfig = Infer<typeof configSchema>;

const NAME = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

export function parseTracepoint(v: string): { category: string; name: string } {
  const [category = '', name = ''] = v.split('/');
  return { category, name };
}

export function validate(c: TracepointReceiverConfig): ConfigIssue[] {
  const issues = validateCommon(c);
  if (!NAME.test(c.tracepoint)) issues.push(error(['tracepoint'], `expected "category/name" (e.g. syscalls/sys_enter_write), got "${c.tracepoint}"`));
  if (c.return_tracepoint !== undefined && !NAME.test(c.return_tracepoint)) {
    issues.push(error(['return_tracepoint'], `expected "category/name" (e.g. syscalls/sys_exit_write), got "${c.return_tracepoint}"`));
  }
  return issues;
}
