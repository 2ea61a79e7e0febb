// health_check config: the Collector's v1 health check options and defaults.
import { error, s } from '../../pipeline/config/schema';
import type { ConfigIssue, Infer } from '../../pipeline/config/schema';
import { parseHostPort } from '../../pipeline/telemetry';

export const DEFAULT_ENDPOINT = '127.0.0.1:13133';

export const configSchema = s.object({
  endpoint: s.string({ default: DEFAULT_ENDPOINT, nonEmpty: true }),
  path: s.string({ default: '/' }),
  /** Fixed bodies instead of the JSON status (the Collector's `response_body`). */
  response_body: s.optional(s.object({
    healthy: s.string({ default: '' }),
    unhealthy: s.string({ default: '' }),
  })),
}, {
  ignored: {
    // Collector users still carry it; the Collector itself stopped honouring it.
    check_collector_pipeline: 'health reflects whether the pipelines are up, as in the Collector',
  },
});

export type HealthCheckConfig = Infer<typeof configSchema>;

export function validate(config: HealthCheckConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!parseHostPort(config.endpoint)) issues.push(error(['endpoint'], `expected host:port such as ${DEFAULT_ENDPOINT}, got "${config.endpoint}"`));
  if (!config.path.startsWith('/')) issues.push(error(['path'], `expected a path starting with "/", got "${config.path}"`));
  return issues;
}
