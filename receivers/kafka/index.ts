// The kafka receiver factory: OTLP (protobuf or JSON) from Kafka topics, as a consumer group.
import { receiverFactory } from '../../pipeline/component';
import { configSchema, validate, type KafkaReceiverConfig } from './config';
import { KafkaReceiver } from './receiver';

export const kafkaReceiverFactory = receiverFactory<KafkaReceiverConfig>({
  kind: 'receiver',
  type: 'kafka',
  description: 'Reads traces, metrics and logs from Kafka topics (OTLP protobuf or JSON) as a consumer group, committing after the pipeline accepted',
  signals: { traces: 'beta', metrics: 'beta', logs: 'beta' },
  config: configSchema,
  validate,
  create: (settings, config, next) => new KafkaReceiver(settings, config, next),
});
