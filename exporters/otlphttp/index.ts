// The otlphttp exporter factory: OTLP over HTTP (protobuf or JSON) to any OTLP backend.
import { exporterFactory } from '../../pipeline/component';
import { otlpExporter } from '../../pipeline/otlp/transport-exporter';
import { configSchema, validate, type OtlpHttpExporterConfig } from './config';
import { HttpTransport } from './transport';

export const otlpHttpExporterFactory = exporterFactory<OtlpHttpExporterConfig>({
  kind: 'exporter',
  type: 'otlphttp',
  aliases: ['otlp_http'],
  description: 'Sends traces, metrics and logs over OTLP/HTTP (protobuf or JSON)',
  signals: { traces: 'beta', metrics: 'beta', logs: 'beta' },
  config: configSchema,
  validate,
  create: (settings, config, signals) =>
    otlpExporter(settings, signals, new HttpTransport(settings, config, signals), config),
});
