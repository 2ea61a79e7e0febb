// The kafka exporter factory: OTLP (protobuf or JSON) into Kafka topics, one per signal.
import { exporterFactory } from '../../pipeline/component';
import { configSchema, validate, type KafkaExporterConfig } from './config';
import { kafkaExporter } from './exporter';

export const kafkaExporterFactory = exporterFactory<KafkaExporterConfig>({
  kind: 'exporter',
  type: 'kafka',
  description: 'Sends traces, metrics and logs to Kafka topics as OTLP (protobuf or JSON), keyed by trace id or TCP connection',
  signals: { traces: 'beta', metrics: 'beta', logs: 'beta' },
  config: configSchema,
  validate,
  create: (settings, config, signals) => kafkaExporter(settings, config, signals),
});
