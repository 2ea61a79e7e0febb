// The kafka receiver's config: the Collector's names, defaults and meanings
// (receiver/kafkareceiver). Offsets are always committed after the pipeline accepted a message,
// so the Collector's autocommit and message_marking switches have nothing left to choose.
import { error, s, warning, type ConfigIssue, type Infer } from '../../pipeline/config/schema';
import { clientFields, clientIgnored, validateClient } from '../../pipeline/kafka/config';

const errorBackoffSchema = s.object({
  enabled: s.bool({ default: true }),
  initial_interval: s.duration({ default: '250ms' }),
  max_interval: s.duration({ default: '5s' }),
  multiplier: s.number({ default: 2, min: 1 }),
  randomization_factor: s.number({ default: 0.5, min: 0, max: 1 }),
}, { ignored: { max_elapsed_time: 'a refused message is retried until the pipeline takes it: it stays in Kafka meanwhile' } });

export const configSchema = s.object({
  ...clientFields,
  /** The Collector's default, so gateways replacing Collectors resume from the same offsets. */
  group_id: s.string({ default: 'otel-collector', nonEmpty: true }),
  /** Where a group with no committed offset starts. */
  initial_offset: s.enum(['latest', 'earliest'], { default: 'latest' }),
  session_timeout: s.duration({ default: '10s' }),
  heartbeat_interval: s.duration({ default: '3s' }),
  group_rebalance_strategy: s.string({ default: 'range' }),
  min_fetch_size: s.int({ default: 1, min: 1 }),
  default_fetch_size: s.int({ default: 1_048_576, min: 1 }),
  /** 0 = no limit. */
  max_fetch_size: s.int({ default: 0, min: 0 }),
  max_fetch_wait: s.duration({ default: '250ms' }),
  /** Back-off of a partition whose message the pipeline refused for now (retryable). */
  error_backoff: errorBackoffSchema,
}, {
  ignored: {
    ...clientIgnored,
    autocommit: 'offsets are committed after the pipeline accepted each message',
    message_marking: 'messages are marked after the pipeline accepted them; a permanent error is counted and skipped, a retryable one retried',
    header_extraction: 'Kafka headers are not copied into resource attributes yet',
    group_instance_id: 'static membership is not supported by the Kafka client',
    rack_id: 'rack-aware fetching is not supported by the Kafka client',
    use_leader_epoch: 'not supported by the Kafka client',
  },
});

export type KafkaReceiverConfig = Infer<typeof configSchema>;

export function validate(config: KafkaReceiverConfig): ConfigIssue[] {
  const issues = validateClient(config);
  const strategy = config.group_rebalance_strategy.toLowerCase();
  if (strategy === 'sticky' || strategy === 'cooperative-sticky') {
    issues.push(error(['group_rebalance_strategy'], `"${config.group_rebalance_strategy}" is not supported by Sonde's Kafka client; use range or roundrobin`));
  } else if (strategy !== 'range' && strategy !== 'roundrobin') {
    issues.push(error(['group_rebalance_strategy'], `expected one of range, roundrobin, got "${config.group_rebalance_strategy}"`));
  }
  if (config.heartbeat_interval >= config.session_timeout) {
    issues.push(error(['heartbeat_interval'], `must be shorter than session_timeout (${config.session_timeout} ms)`));
  }
  if (!config.error_backoff.enabled) {
    issues.push(warning(['error_backoff', 'enabled'], 'a refused message is always retried after a back-off (it would be lost otherwise)', true));
  }
  return issues;
}
