// The otlphttp exporter factory: OTLP over HTTP (protobuf or JSON) to any OTLP backend.
import { exporterFactory } from '../../pipeline/component';
import { OtlpHttpTransport } from '../../pipeline/otlp/http-transport';
import { otlpExporter } from '../../pipeline/otlp/transport-exporter';
import { configSchema, signalUrl, validate, type OtlpHttpExporterConfig } from './config';

export const otlpHttpExporterFactory = exporterFactory<OtlpHttpExporterConfig>({
  kind: 'exporter',
  type: 'otlphttp',
  aliases: ['otlp_http'],
  description: 'Sends traces, metrics and logs over OTLP/HTTP (protobuf or JSON)',
  signals: { traces: 'beta', metrics: 'beta', logs: 'beta' },
  config: configSchema,
  validate,
  create: (settings, config, signals) => {
    const urls = Object.fromEntries(signals.map((signal) => [signal, signalUrl(config, signal)]));
    return otlpExporter(settings, signals, new OtlpHttpTransport(settings, config, urls), config);
  },
});
