// The otlp (gRPC) exporter's config: the Collector's names and defaults.
import { error, s, type ConfigIssue, type Infer } from '../../pipeline/config/schema';
import { target } from '../../pipeline/otlp/grpc-transport';
import { clientTlsSchema, validateTls } from '../../pipeline/otlp/transport-tls';
import { queueSchema, retrySchema, validateQueue } from '../../pipeline/exporterhelper';

export const configSchema = s.object({
  /** host:port; an http:// prefix means plaintext, https:// means TLS. */
  endpoint: s.string({ default: '' }),
  tls: clientTlsSchema,
  headers: s.map(s.string()),
  compression: s.enum(['gzip', 'none'], { default: 'gzip' }),
  timeout: s.duration({ default: '5s' }),
  sending_queue: queueSchema,
  retry_on_failure: retrySchema,
}, {
  ignored: {
    keepalive: 'grpc-js keepalive defaults apply',
    balancer_name: 'grpc-js picks the first address',
    read_buffer_size: 'Node sizes socket buffers',
    write_buffer_size: 'Node sizes socket buffers',
    wait_for_ready: 'calls fail fast and are retried by retry_on_failure',
    auth: 'authenticator extensions are not supported yet; use headers',
    authority: 'use tls.server_name_override',
  },
});

export type OtlpExporterConfig = Infer<typeof configSchema>;

export function validate(config: OtlpExporterConfig): ConfigIssue[] {
  if (!config.endpoint) return [error([], 'requires a non-empty "endpoint"')];
  const issues: ConfigIssue[] = [...validateTls(config.tls, ['tls']), ...validateQueue(config.sending_queue, ['sending_queue'])];
  const t = target(config);
  if (typeof t === 'string') issues.push(error(['endpoint'], t));
  return issues;
}
