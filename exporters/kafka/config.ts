// The kafka exporter's config: the Collector's names, defaults and meanings
// (exporter/kafkaexporter), plus one Sonde key, partition_traces_by_connection.
import { error, s, type ConfigIssue, type Infer } from '../../pipeline/config/schema';
import { queueSchema, retrySchema, validateQueue } from '../../pipeline/exporterhelper';
import { clientFields, clientIgnored, validateClient } from '../../pipeline/kafka/config';

const producerSchema = s.object({
  /** Largest message (key + value, before compression) sent; bigger batches are split. */
  max_message_bytes: s.int({ default: 1_000_000, min: 1024 }),
  /** 0: no answer, 1: the leader wrote it, -1: every in-sync replica did. */
  required_acks: s.int({ default: 1, min: -1, max: 1 }),
  compression: s.string({ default: 'none' }),
  allow_auto_topic_creation: s.bool({ default: true }),
}, {
  ignored: {
    flush_max_messages: 'each batch is produced at once',
    compression_params: 'compression levels are the library defaults',
    linger: 'each batch is produced at once; use the batch processor',
  },
});

export const configSchema = s.object({
  ...clientFields,
  /** Key each message by trace id (one trace per message): a trace stays in one partition. */
  partition_traces_by_id: s.bool({ default: false }),
  /**
   * Sonde: key spans that carry a TCP connection's addresses by that connection (the sorted
   * 4-tuple), so a client span and the server span of the same connection, from two nodes, land
   * in one partition and one gateway can stitch them. Spans without addresses keep the trace key.
   */
  partition_traces_by_connection: s.bool({ default: false }),
  timeout: s.duration({ default: '5s' }),
  sending_queue: queueSchema,
  retry_on_failure: retrySchema,
  producer: producerSchema,
}, {
  ignored: {
    ...clientIgnored,
    partition_metrics_by_resource_attributes: 'metrics are not keyed yet',
    partition_logs_by_resource_attributes: 'logs are not keyed yet',
    topic_from_attribute: 'topics come from the config only',
    include_metadata_keys: 'client metadata is not carried through the pipeline',
  },
});

export type KafkaExporterConfig = Infer<typeof configSchema>;

export const COMPRESSIONS = ['none', 'gzip', 'snappy'] as const;

export function validate(config: KafkaExporterConfig): ConfigIssue[] {
  const issues = [...validateClient(config), ...validateQueue(config.sending_queue, ['sending_queue'])];
  const c = config.producer.compression.toLowerCase();
  if (c === 'lz4' || c === 'zstd') {
    issues.push(error(['producer', 'compression'], `"${c}" is not supported by Sonde's kafka client; use none, gzip or snappy`));
  } else if (!(COMPRESSIONS as readonly string[]).includes(c)) {
    issues.push(error(['producer', 'compression'], `expected one of ${COMPRESSIONS.join(', ')}, got "${config.producer.compression}"`));
  }
  return issues;
}
