// The prometheus (pull) exporter's config: the Collector's option names and meanings. The
// default endpoint is 127.0.0.1:8889, not the Collector's 0.0.0.0:8889: like Sonde's other
// endpoints (and the Collector's own localhost default for its servers) nothing is exposed
// beyond the machine unless the file says so; a scraped pod sets `endpoint: 0.0.0.0:8889`.
import { error, s, type ConfigIssue, type Infer } from '../../pipeline/config/schema';
import { isValidLabelName } from '../../pipeline/prometheus/naming';
import { parseHostPort } from '../../pipeline/telemetry';

export const DEFAULT_ENDPOINT = '127.0.0.1:8889';

export const configSchema = s.object({
  endpoint: s.string({ default: DEFAULT_ENDPOINT, nonEmpty: true }),
  namespace: s.string({ default: '' }),
  const_labels: s.map(s.string()),
  send_timestamps: s.bool({ default: false }),
  /** A series not updated for this long leaves /metrics. */
  metric_expiration: s.duration({ default: '5m' }),
  resource_to_telemetry_conversion: s.object({ enabled: s.bool({ default: false }) }),
  enable_open_metrics: s.bool({ default: false }),
  add_metric_suffixes: s.bool({ default: true }),
  /** Not implemented: rejected in validate() rather than served in plain text unnoticed. */
  tls: s.unknown(),
}, {
  ignored: {
    without_scope_info: 'otel_scope_name/otel_scope_version labels are always written',
  },
});

export type PrometheusExporterConfig = Infer<typeof configSchema>;

export function validate(config: PrometheusExporterConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!parseHostPort(config.endpoint)) issues.push(error(['endpoint'], `expected host:port such as ${DEFAULT_ENDPOINT}, got "${config.endpoint}"`));
  if (!(config.metric_expiration > 0)) issues.push(error(['metric_expiration'], 'expected a duration above 0 such as 5m'));
  for (const name of Object.keys(config.const_labels)) {
    if (!isValidLabelName(name) || name.startsWith('__')) issues.push(error(['const_labels', name], `"${name}" is not a valid Prometheus label name`));
  }
  if (config.tls != null) issues.push(error(['tls'], 'TLS on the scrape endpoint is not supported yet; serve it behind a TLS proxy or on 127.0.0.1'));
  return issues;
}
