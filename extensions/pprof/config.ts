// pprof config: the Collector's option names and defaults. The Go runtime's block and mutex
// profiles have no Node.js counterpart: accepted so Collector files load, with a warning.
import { error, s } from '../../pipeline/config/schema';
import type { ConfigIssue, Infer } from '../../pipeline/config/schema';
import { parseHostPort } from '../../pipeline/telemetry';

export const DEFAULT_ENDPOINT = '127.0.0.1:1777';

export const configSchema = s.object({
  endpoint: s.string({ default: DEFAULT_ENDPOINT, nonEmpty: true }),
  /** A CPU profile from start to shutdown is written here (gzipped pprof), when set. */
  save_to_file: s.string({ default: '' }),
}, {
  ignored: {
    block_profile_fraction: 'Go runtime block profiling has no Node.js counterpart',
    mutex_profile_fraction: 'Go runtime mutex profiling has no Node.js counterpart',
  },
});

export type PprofConfig = Infer<typeof configSchema>;

export function validate(config: PprofConfig): ConfigIssue[] {
  return parseHostPort(config.endpoint) ? [] : [error(['endpoint'], `expected host:port such as ${DEFAULT_ENDPOINT}, got "${config.endpoint}"`)];
}
