// The uprobe receiver's config: a function in a user-space binary or shared library (by symbol,
// or offset), optionally in one process, optionally timed (uretprobe pairing).
import { error, s, type ConfigIssue, type Infer } from '../../pipeline/config/schema';
import { probeCommonFields, validateCommon } from '../../pipeline/ebpf/probe-config';

export const configSchema = s.object({
  /** path of the executable or library to probe */
  binary: s.optional(s.string({ nonEmpty: true })),
  /** a library by name (libssl.so.3), found through the pid's mappings, ld.so.cache, common paths */
  library: s.optional(s.string({ nonEmpty: true })),
  /** function name from the ELF symbol tables */
  symbol: s.optional(s.string({ nonEmpty: true })),
  /** file offset of the instruction, or added to the symbol's */
  offset: s.optional(s.int({ min: 0 })),
  /** only this process (the kernel attaches for it alone) */
  pid: s.optional(s.int({ min: 1 })),
  /** pair entry with return (uretprobe) for a latency histogram */
  latency: s.bool({ default: false }),
  ...probeCommonFields('uprobe'),
});

export type UprobeReceiverConfig = Infer<typeof configSchema>;

export function validate(c: UprobeReceiverConfig): ConfigIssue[] {
  const issues = validateCommon(c);
  if ((c.binary === undefined) === (c.library === undefined)) issues.push(error([], 'set exactly one of "binary" (a path) or "library" (a name such as libssl.so.3)'));
  if (c.binary !== undefined && !c.binary.startsWith('/')) issues.push(error(['binary'], 'must be an absolute path (use "library" for a name looked up in ld.so.cache)'));
  if (c.symbol === undefined && c.offset === undefined) issues.push(error([], 'set "symbol" (a function name) or "offset"'));
  if (c.pid !== undefined && c.filter.pids.length > 0 && !c.filter.pids.includes(c.pid)) {
    issues.push(error(['filter', 'pids'], `does not include pid ${c.pid}: nothing could be counted`));
  }
  return issues;
}
