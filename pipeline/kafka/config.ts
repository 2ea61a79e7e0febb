// What the kafka exporter and receiver share in their config, with the Collector's names and
// defaults (exporter/kafkaexporter, receiver/kafkareceiver, pkg/kafka/configkafka): brokers,
// client_id, auth (sasl, and the older auth.tls), tls, metadata, and the per-signal
// `traces: {topic, encoding}` with the older top-level `topic`/`encoding`.
import { error, s, warning, type ConfigIssue, type Infer, type Path, type Schema } from '../config/schema';
import { clientTlsSchema, validateTls, type ClientTlsConfig } from '../otlp/transport-tls';
import type { Signal } from '../pdata';

/** The Collector's default topic per signal. */
export const DEFAULT_TOPICS: Record<Signal, string> = { traces: 'otlp_spans', metrics: 'otlp_metrics', logs: 'otlp_logs' };

export const ENCODINGS = ['otlp_proto', 'otlp_json'] as const;
export type Encoding = (typeof ENCODINGS)[number];
/** Encodings the Collector has that Sonde does not implement: named in the error. */
const OTHER_ENCODINGS = ['jaeger_proto', 'jaeger_json', 'zipkin_proto', 'zipkin_json', 'zipkin_thrift', 'raw', 'text', 'json', 'azure_resource_logs'];

/** An encoding name as written: checked by validateEncoding so unsupported Collector names get their own message. */
const encodingString = (): ReturnType<typeof s.optional<string>> => s.optional(s.string({ nonEmpty: true }));

export const signalTopicSchema = s.object({
  topic: s.optional(s.string({ nonEmpty: true })),
  encoding: encodingString(),
});

const saslSchema = s.object({
  mechanism: s.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
  username: s.string({ nonEmpty: true }),
  password: s.string(),
  /** The SASL handshake version (0 or 1): kafkajs always speaks v1. */
  version: s.int({ default: 0, min: 0, max: 1 }),
}, { ignored: { aws_msk: 'AWS MSK IAM is not supported' } });

const authSchema = s.object({
  sasl: s.optional(saslSchema),
  /** The older place of tls; top-level `tls` wins. */
  tls: s.optional(clientTlsSchema),
}, {
  ignored: {
    plain_text: 'use auth.sasl with mechanism PLAIN',
    kerberos: 'Kerberos is not supported',
  },
});

const metadataSchema = s.object({
  /** Whether to ask for every topic's metadata; kafkajs asks only for the topics it uses. */
  full: s.bool({ default: true }),
  refresh_interval: s.duration({ default: '10m' }),
  retry: s.object({
    max: s.int({ default: 3, min: 0 }),
    backoff: s.duration({ default: '250ms' }),
  }),
});

/**
 * A list, or one string of comma-separated host:port (the Collector splits strings on commas, so
 * `brokers: ${env:KAFKA_BROKERS}` works with several brokers).
 */
function brokersSchema(): Schema<string[]> {
  const list = s.array(s.string({ nonEmpty: true }), { default: ['localhost:9092'] });
  return {
    ...list,
    read(value, path, issues) {
      if (typeof value === 'string') return value.split(',').map((b) => b.trim()).filter((b) => b !== '');
      return list.read(value, path, issues);
    },
  };
}

/** Keys both components have. */
export const clientFields = {
  brokers: brokersSchema(),
  /**
   * The Collector says "otel-collector". Sonde says "sonde": client ids only label connections in
   * broker logs and quotas, and an operator should see which program is connected.
   */
  client_id: s.string({ default: 'sonde', nonEmpty: true }),
  /** Present = TLS on (unless insecure: true), as the Collector reads configtls. */
  tls: s.optional(clientTlsSchema),
  auth: s.optional(authSchema),
  metadata: metadataSchema,
  /** The deprecated single-topic form; per-signal `traces.topic` etc. win. */
  topic: s.optional(s.string({ nonEmpty: true })),
  encoding: encodingString(),
  traces: signalTopicSchema,
  metrics: signalTopicSchema,
  logs: signalTopicSchema,
};

export const clientIgnored: Record<string, string> = {
  protocol_version: 'kafkajs negotiates API versions with each broker',
  resolve_canonical_bootstrap_servers_only: 'brokers are used as written',
  profiles: 'profiles are not carried by Sonde yet',
};

export interface ClientConfig {
  brokers: string[];
  client_id: string;
  tls: ClientTlsConfig | undefined;
  auth: Infer<typeof authSchema> | undefined;
  metadata: Infer<typeof metadataSchema>;
  topic: string | undefined;
  encoding: string | undefined;
  traces: Infer<typeof signalTopicSchema>;
  metrics: Infer<typeof signalTopicSchema>;
  logs: Infer<typeof signalTopicSchema>;
}

/** The TLS block in effect: top-level `tls`, else the older `auth.tls`; undefined = plaintext. */
export function effectiveTls(c: ClientConfig): ClientTlsConfig | undefined {
  const tls = c.tls ?? c.auth?.tls;
  return tls && !tls.insecure ? tls : undefined;
}

/** The topic a signal goes to or comes from: `traces.topic`, else the old `topic`, else the default. */
export function topicFor(c: ClientConfig, signal: Signal): string {
  return c[signal].topic ?? c.topic ?? DEFAULT_TOPICS[signal];
}

export function encodingFor(c: ClientConfig, signal: Signal): Encoding {
  const e = (c[signal].encoding ?? c.encoding ?? 'otlp_proto').toLowerCase();
  return (ENCODINGS as readonly string[]).includes(e) ? (e as Encoding) : 'otlp_proto';
}

function validateEncoding(value: string | undefined, path: Path): ConfigIssue[] {
  if (value === undefined) return [];
  const v = value.toLowerCase();
  if ((ENCODINGS as readonly string[]).includes(v)) return [];
  if (OTHER_ENCODINGS.includes(v)) return [error(path, `encoding "${value}" is not supported by Sonde; use ${ENCODINGS.join(' or ')}`)];
  return [error(path, `expected one of ${ENCODINGS.join(', ')}, got "${value}"`)];
}

export function validateClient(c: ClientConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (c.brokers.length === 0) issues.push(error(['brokers'], 'at least one broker (host:port) is needed'));
  c.brokers.forEach((b, i) => {
    if (!/^[^\s:]+:\d{1,5}$/.test(b) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b)) issues.push(error(['brokers', i], `expected host:port, got "${b}"`));
  });
  // Where the Collector deprecated the single-topic form, say so; it still works.
  if (c.topic !== undefined) issues.push(warning(['topic'], '"topic" is deprecated, use traces.topic, metrics.topic and logs.topic', true));
  if (c.encoding !== undefined) issues.push(warning(['encoding'], '"encoding" is deprecated, use traces.encoding, metrics.encoding and logs.encoding', true));
  issues.push(...validateEncoding(c.encoding, ['encoding']));
  for (const signal of ['traces', 'metrics', 'logs'] as const) issues.push(...validateEncoding(c[signal].encoding, [signal, 'encoding']));
  if (c.tls) issues.push(...validateTls(c.tls, ['tls']));
  if (c.auth?.tls) {
    issues.push(warning(['auth', 'tls'], '"auth.tls" is deprecated, use "tls"', true));
    issues.push(...validateTls(c.auth.tls, ['auth', 'tls']));
  }
  return issues;
}
