// The prometheusremotewrite exporter factory: metrics to any Prometheus remote-write 1.0 endpoint.
import { exporterFactory } from '../../pipeline/component';
import { configSchema, validate, type RemoteWriteExporterConfig } from './config';
import { remoteWriteExporter } from './exporter';

export const prometheusRemoteWriteExporterFactory = exporterFactory<RemoteWriteExporterConfig>({
  kind: 'exporter',
  type: 'prometheusremotewrite',
  aliases: ['prometheus_remote_write'],
  description: 'Sends metrics with Prometheus remote write 1.0 (protobuf + snappy), OTel names and labels per the compatibility spec',
  signals: { metrics: 'beta' },
  config: configSchema,
  validate,
  create: (settings, config, signals) => remoteWriteExporter(settings, config, signals),
});
