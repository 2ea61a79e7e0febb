// The debug exporter factory (old name `logging`): batches as readable text on stdout.
import { exporterFactory } from '../../pipeline/component';
import { configSchema, type DebugConfig } from './config';
import { DebugExporter } from './exporter';

export const debugExporterFactory = exporterFactory<DebugConfig>({
  kind: 'exporter',
  type: 'debug',
  deprecatedAliases: ['logging'],
  description: 'Writes batches to stdout as text: a summary, one line per item, or every field',
  signals: { traces: 'development', metrics: 'development', logs: 'development' },
  config: configSchema,
  create: (settings, config, signals) => new DebugExporter(settings, config, signals),
});
