// The otlphttp exporter's config: the Collector's names and defaults.
import { error, s, type ConfigIssue, type Infer } from '../../pipeline/config/schema';
import { clientTlsSchema, validateTls } from '../../pipeline/otlp/transport-tls';
import { queueSchema, retrySchema, validateQueue } from '../../pipeline/exporterhelper';
import type { Signal } from '../../pipeline/pdata';
import { isHttpUrl } from '../../pipeline/otlp/http-transport';

const url = (): ReturnType<typeof s.string> => s.string({ default: '' });

export const configSchema = s.object({
  /** Base URL; /v1/traces, /v1/metrics, /v1/logs are appended. */
  endpoint: url(),
  traces_endpoint: url(),
  metrics_endpoint: url(),
  logs_endpoint: url(),
  encoding: s.enum(['proto', 'json'], { default: 'proto' }),
  compression: s.enum(['gzip', 'none'], { default: 'gzip' }),
  headers: s.map(s.string()),
  tls: clientTlsSchema,
  timeout: s.duration({ default: '30s' }),
  sending_queue: queueSchema,
  retry_on_failure: retrySchema,
}, {
  ignored: {
    read_buffer_size: 'Node sizes socket buffers',
    write_buffer_size: 'Node sizes socket buffers',
    max_idle_conns: 'the keep-alive agent manages idle connections',
    max_idle_conns_per_host: 'the keep-alive agent manages idle connections',
    max_conns_per_host: 'sending_queue.num_consumers bounds concurrent requests',
    idle_conn_timeout: 'the keep-alive agent manages idle connections',
    disable_keep_alives: 'connections are always kept alive',
    http2_read_idle_timeout: 'requests use HTTP/1.1',
    http2_ping_timeout: 'requests use HTTP/1.1',
    proxy_url: 'proxies are not supported yet',
    auth: 'authenticator extensions are not supported yet; use headers',
    cookies: 'not supported',
    profiles_endpoint: 'profiles are not exported yet',
  },
});

export type OtlpHttpExporterConfig = Infer<typeof configSchema>;

const OVERRIDE = { traces: 'traces_endpoint', metrics: 'metrics_endpoint', logs: 'logs_endpoint' } as const;

/** The URL a signal is posted to: its own endpoint, or the base endpoint + /v1/<signal>. */
export function signalUrl(config: OtlpHttpExporterConfig, signal: Signal): string | undefined {
  const own = config[OVERRIDE[signal]];
  if (own) return own;
  if (!config.endpoint) return undefined;
  return config.endpoint.endsWith('/') ? `${config.endpoint}v1/${signal}` : `${config.endpoint}/v1/${signal}`;
}

export function validate(config: OtlpHttpExporterConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [...validateTls(config.tls, ['tls']), ...validateQueue(config.sending_queue, ['sending_queue'])];
  if (!config.endpoint && !config.traces_endpoint && !config.metrics_endpoint && !config.logs_endpoint) {
    issues.push(error([], 'at least one endpoint must be specified'));
  }
  for (const key of ['endpoint', ...Object.values(OVERRIDE)] as const) {
    const value = config[key];
    if (value && !isHttpUrl(value)) issues.push(error([key], `expected an http:// or https:// URL, got "${value}"`));
  }
  return issues;
}
