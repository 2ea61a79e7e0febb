// The otlp exporter factory: OTLP over gRPC to any OTLP backend (Tempo, a Collector, Sonde).
import { exporterFactory } from '../../pipeline/component';
import { GrpcTransport } from '../../pipeline/otlp/grpc-transport';
import { otlpExporter } from '../../pipeline/otlp/transport-exporter';
import { configSchema, validate, type OtlpExporterConfig } from './config';

export const otlpExporterFactory = exporterFactory<OtlpExporterConfig>({
  kind: 'exporter',
  type: 'otlp',
  aliases: ['otlp_grpc'],
  description: 'Sends traces, metrics and logs over OTLP/gRPC',
  signals: { traces: 'beta', metrics: 'beta', logs: 'beta' },
  config: configSchema,
  validate,
  create: (settings, config, signals) =>
    otlpExporter(settings, signals, new GrpcTransport(settings, config), config),
});
