// The file exporter factory: OTLP/JSON lines or length-prefixed protobuf, with rotation.
import { exporterFactory } from '../../pipeline/component';
import { configSchema, validate, type FileExporterConfig } from './config';
import { FileExporter } from './exporter';

export const fileExporterFactory = exporterFactory<FileExporterConfig>({
  kind: 'exporter',
  type: 'file',
  description: 'Writes OTLP/JSON lines or length-prefixed OTLP protobuf to a file, with size-based rotation',
  signals: { traces: 'alpha', metrics: 'alpha', logs: 'alpha' },
  config: configSchema,
  validate,
  create: (settings, config, signals) => new FileExporter(settings, config, signals),
});
