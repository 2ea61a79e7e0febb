// zpages config: the Collector's option name and default.
import { error, s } from '../../pipeline/config/schema';
import type { ConfigIssue, Infer } from '../../pipeline/config/schema';
import { parseHostPort } from '../../pipeline/telemetry';

export const DEFAULT_ENDPOINT = '127.0.0.1:55679';

export const configSchema = s.object({
  endpoint: s.string({ default: DEFAULT_ENDPOINT, nonEmpty: true }),
});

export type ZPagesConfig = Infer<typeof configSchema>;

export function validate(config: ZPagesConfig): ConfigIssue[] {
  return parseHostPort(config.endpoint) ? [] : [error(['endpoint'], `expected host:port such as ${DEFAULT_ENDPOINT}, got "${config.endpoint}"`)];
}
