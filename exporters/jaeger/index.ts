// The jaeger exporter factory: traces to Jaeger as Thrift over HTTP (the collector's /api/traces)
// or through Jaeger's native OTLP endpoint (gRPC or HTTP).
import { exporterFactory } from '../../pipeline/component';
import { otlpExporter } from '../../pipeline/otlp/transport-exporter';
import { configSchema, validate, type JaegerExporterConfig } from './config';
import { senderFor } from './senders';

export const jaegerExporterFactory = exporterFactory<JaegerExporterConfig>({
  kind: 'exporter',
  type: 'jaeger',
  // The Collector's removed Thrift-over-HTTP exporter, under its two historical names: those
  // files (endpoint http://host:14268/api/traces, headers, timeout, queue, retry) load as they are.
  deprecatedAliases: ['jaeger_thrift', 'jaeger_thrift_http'],
  description: 'Sends traces to Jaeger: Thrift over HTTP (/api/traces) or OTLP gRPC/HTTP',
  signals: { traces: 'alpha' },
  config: configSchema,
  validate,
  create: (settings, config, signals) => otlpExporter(settings, signals, senderFor(settings, config), config),
});
