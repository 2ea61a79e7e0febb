// The otlp receiver's config: the Collector's names and defaults (`protocols.grpc`,
// `protocols.http`), except that endpoints default to loopback, as the Collector now does.
import { error, s, type ConfigIssue, type Infer, type Path } from '../../pipeline/config/schema';
import { hasServerCert, serverTlsSchema, validateTls, type ServerTlsConfig } from '../../pipeline/otlp/transport-tls';
import { parseEndpoint } from './endpoint';

const MiB = 1024 * 1024;

const grpcSchema = s.object({
  endpoint: s.string({ default: '127.0.0.1:4317' }),
  transport: s.enum(['tcp'], { default: 'tcp' }),
  max_recv_msg_size_mib: s.number({ default: 4, min: 0 }),
  /** 0 = no limit beyond HTTP/2's own. */
  max_concurrent_streams: s.int({ default: 0, min: 0 }),
  tls: s.optional(serverTlsSchema),
}, {
  ignored: {
    keepalive: 'grpc-js keepalive defaults apply',
    read_buffer_size: 'Node sizes socket buffers',
    write_buffer_size: 'Node sizes socket buffers',
    include_metadata: 'client metadata is not propagated yet',
    auth: 'authenticator extensions are not supported yet',
  },
});

const corsSchema = s.object({
  allowed_origins: s.array(s.string()),
  allowed_headers: s.array(s.string()),
  max_age: s.int({ default: 0, min: 0 }),
});

const httpSchema = s.object({
  endpoint: s.string({ default: '127.0.0.1:4318' }),
  traces_url_path: s.string({ default: '/v1/traces' }),
  metrics_url_path: s.string({ default: '/v1/metrics' }),
  logs_url_path: s.string({ default: '/v1/logs' }),
  max_request_body_size: s.int({ default: 20 * MiB, min: 0 }),
  tls: s.optional(serverTlsSchema),
  cors: s.optional(corsSchema),
}, {
  ignored: {
    include_metadata: 'client metadata is not propagated yet',
    auth: 'authenticator extensions are not supported yet',
    response_headers: 'not supported yet',
    compression_algorithms: 'gzip and deflate are accepted',
    read_timeout: 'Node server timeouts apply',
    read_header_timeout: 'Node server timeouts apply',
    write_timeout: 'Node server timeouts apply',
    idle_timeout: 'Node server timeouts apply',
  },
});

/**
 * Bounded in-flight work, named as the Collector's otelarrow receiver names it
 * (`admission.request_limit_mib`): the OTLP receiver of the Collector has no such key. Counted in
 * uncompressed request bytes across both protocols; decoded, a request takes ~6x its bytes.
 */
const admissionSchema = s.object({
  /** Uncompressed bytes of requests in flight (read, decoded, in the pipeline); 0 = no limit. */
  request_limit_mib: s.number({ default: 32, min: 0 }),
}, {
  ignored: {
    waiting_limit_mib: 'Sonde never lets requests wait for admission: beyond request_limit_mib it answers UNAVAILABLE / 503 at once',
  },
});

export const configSchema = s.object({
  protocols: s.object({
    grpc: s.optional(grpcSchema),
    http: s.optional(httpSchema),
  }),
  admission: admissionSchema,
});

export type OtlpReceiverConfig = Infer<typeof configSchema>;
export type GrpcConfig = Infer<typeof grpcSchema>;
export type HttpConfig = Infer<typeof httpSchema>;
export type CorsConfig = Infer<typeof corsSchema>;
export type AdmissionConfig = Infer<typeof admissionSchema>;

export function validate(config: OtlpReceiverConfig): ConfigIssue[] {
  const { grpc, http } = config.protocols;
  const issues: ConfigIssue[] = [];
  if (!grpc && !http) issues.push(error(['protocols'], 'must specify at least one protocol when using the OTLP receiver'));
  if (grpc) {
    issues.push(...checkEndpoint(grpc.endpoint, ['protocols', 'grpc', 'endpoint']));
    if (grpc.tls) issues.push(...checkTls(grpc.tls, ['protocols', 'grpc', 'tls']));
  }
  if (http) {
    issues.push(...checkEndpoint(http.endpoint, ['protocols', 'http', 'endpoint']));
    if (http.tls) issues.push(...checkTls(http.tls, ['protocols', 'http', 'tls']));
    const paths = [http.traces_url_path, http.metrics_url_path, http.logs_url_path].map(urlPath);
    if (new Set(paths).size !== paths.length) issues.push(error(['protocols', 'http'], 'traces_url_path, metrics_url_path and logs_url_path must differ'));
  }
  return issues;
}

function checkTls(tls: ServerTlsConfig, path: Path): ConfigIssue[] {
  const issues = validateTls(tls, path);
  if (!hasServerCert(tls)) issues.push(error(path, 'a server needs cert_file and key_file for TLS'));
  return issues;
}

function checkEndpoint(endpoint: string, path: Path): ConfigIssue[] {
  const parsed = parseEndpoint(endpoint);
  return typeof parsed === 'string' ? [error(path, parsed)] : [];
}

/** The Collector accepts paths without the leading slash. */
export function urlPath(p: string): string {
  return p.startsWith('/') ? p : `/${p}`;
}
