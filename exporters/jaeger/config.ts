// The jaeger exporter's config. Key names follow the Collector's removed `jaeger` /
// `jaeger_thrift_http` exporters (endpoint, headers, timeout, tls) plus the exporter helper's
// sending_queue and retry_on_failure; `protocol` picks the wire format.
import { error, s, type ConfigIssue, type Infer } from '../../pipeline/config/schema';
import { queueSchema, retrySchema, validateQueue } from '../../pipeline/exporterhelper';
import { target } from '../../pipeline/otlp/grpc-transport';
import { clientTlsSchema, validateTls } from '../../pipeline/otlp/transport-tls';

export const PROTOCOLS = ['thrift_http', 'otlp_grpc', 'otlp_http'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** Where Jaeger listens by default for each protocol (collector :14268, OTLP :4317 / :4318). */
export const DEFAULT_ENDPOINT: Record<Protocol, string> = {
  thrift_http: 'http://localhost:14268/api/traces',
  otlp_grpc: 'localhost:4317',
  otlp_http: 'http://localhost:4318',
};

/** Jaeger's Thrift collector path, used when a thrift_http endpoint has none. */
export const THRIFT_PATH = '/api/traces';

export const configSchema = s.object({
  /**
   * thrift_http (the default): the only reason to pick this exporter over otlp/otlphttp is a
   * backend that needs Jaeger's own protocol; a Jaeger v2 (or v1 >= 1.35) backend takes OTLP,
   * which otlp_grpc / otlp_http send through the same code as the otlp exporters.
   */
  protocol: s.enum(PROTOCOLS, { default: 'thrift_http' }),
  /** thrift_http: full URL (path /api/traces when none); otlp_http: base URL (+ /v1/traces); otlp_grpc: host:port. Empty: the protocol's local default. */
  endpoint: s.string({ default: '' }),
  headers: s.map(s.string()),
  /** Default: none for thrift_http (Jaeger's Thrift endpoint reads the body as it is), gzip for OTLP. */
  compression: s.optional(s.enum(['gzip', 'none'])),
  tls: clientTlsSchema,
  timeout: s.duration({ default: '5s' }),
  sending_queue: queueSchema,
  retry_on_failure: retrySchema,
}, {
  ignored: {
    read_buffer_size: 'Node sizes socket buffers',
    write_buffer_size: 'Node sizes socket buffers',
    max_idle_conns: 'the keep-alive agent manages idle connections',
    idle_conn_timeout: 'the keep-alive agent manages idle connections',
    keepalive: 'grpc-js keepalive defaults apply',
    balancer_name: 'grpc-js picks the first address',
    wait_for_ready: 'calls fail fast and are retried by retry_on_failure',
    auth: 'authenticator extensions are not supported yet; use headers',
  },
});

export type JaegerExporterConfig = Infer<typeof configSchema>;

export function compressionOf(config: JaegerExporterConfig): 'gzip' | 'none' {
  return config.compression ?? (config.protocol === 'thrift_http' ? 'none' : 'gzip');
}

export function endpointOf(config: JaegerExporterConfig): string {
  return config.endpoint.trim() || DEFAULT_ENDPOINT[config.protocol];
}

/** The URL to POST to (thrift_http, otlp_http), or a message saying what is wrong. */
export function postUrl(config: JaegerExporterConfig): URL | string {
  const endpoint = endpointOf(config);
  let u: URL | undefined;
  try {
    u = new URL(endpoint);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.host === '') {
    // host:port is what the Collector's old `jaeger` exporter took: Jaeger gRPC (:14250), which
    // Sonde does not speak. Say what works instead.
    const hint = config.protocol === 'thrift_http' && /^[^/]+:\d+$/.test(endpoint)
      ? ' (for Jaeger\'s Thrift collector write http://host:14268/api/traces; for host:port use protocol: otlp_grpc and Jaeger\'s OTLP port 4317)'
      : '';
    return `expected an http:// or https:// URL, got "${endpoint}"${hint}`;
  }
  if (config.protocol === 'thrift_http') {
    if (u.pathname === '' || u.pathname === '/') u.pathname = THRIFT_PATH;
  } else {
    // As otlphttp: the base endpoint + /v1/traces.
    u.pathname = u.pathname.endsWith('/') ? `${u.pathname}v1/traces` : `${u.pathname}/v1/traces`;
  }
  return u;
}

export function validate(config: JaegerExporterConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [...validateTls(config.tls, ['tls']), ...validateQueue(config.sending_queue, ['sending_queue'])];
  // otlp_grpc: the otlp exporter's host:port rules.
  const where = config.protocol === 'otlp_grpc' ? target({ endpoint: endpointOf(config), tls: config.tls }) : postUrl(config);
  if (typeof where === 'string') issues.push(error(config.endpoint ? ['endpoint'] : [], where));
  return issues;
}
