// The kprobe receiver's config: a kernel function, whether to time it (return probe pairing),
// and the attach kinds to try best-first.
import { error, s, type ConfigIssue, type Infer } from '../../pipeline/config/schema';
import { probeCommonFields, validateCommon } from '../../pipeline/ebpf/probe-config';

export const ATTACH_OPTIONS = ['fentry', 'kprobe'] as const;
export type KprobeAttach = (typeof ATTACH_OPTIONS)[number];

export const configSchema = s.object({
  /** kernel function, as in /proc/kallsyms (e.g. vfs_write) */
  function: s.string({ nonEmpty: true }),
  /** pair entry with return (fexit / kretprobe) for a latency histogram */
  latency: s.bool({ default: false }),
  /** attach kinds, best-first; the first one this kernel accepts is taken (and logged) */
  attach: s.array<KprobeAttach>(s.enum(ATTACH_OPTIONS), { default: [...ATTACH_OPTIONS] }),
  ...probeCommonFields('kprobe'),
});

export type KprobeReceiverConfig = Infer<typeof configSchema>;

export function validate(c: KprobeReceiverConfig): ConfigIssue[] {
  const issues = validateCommon(c);
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(c.function)) issues.push(error(['function'], `expected a kernel function name, got "${c.function}"`));
  if (c.attach.length === 0) issues.push(error(['attach'], `list at least one of ${ATTACH_OPTIONS.join(', ')}`));
  if (new Set(c.attach).size !== c.attach.length) issues.push(error(['attach'], 'lists an option twice'));
  return issues;
}
