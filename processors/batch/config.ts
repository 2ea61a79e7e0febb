// The batch processor's config: the Collector's names, defaults and meanings.
import { error, s, type ConfigIssue, type Infer } from '../../pipeline/config/schema';

export const configSchema = s.object({
  /** Pending items that trigger a send; a trigger only, it does not cap the batch. */
  send_batch_size: s.int({ default: 8192, min: 0 }),
  /** Upper bound on items per send; 0 = no limit. Larger batches are split. */
  send_batch_max_size: s.int({ default: 0, min: 0 }),
  /** Longest time the first pending item waits; 0 = send at once (batches form only under load). */
  timeout: s.duration({ default: '200ms' }),
}, {
  ignored: {
    metadata_keys: 'batching by client metadata is not supported: one batch per processor',
    metadata_cardinality_limit: 'batching by client metadata is not supported',
  },
});

export type BatchConfig = Infer<typeof configSchema>;

export function validate(config: BatchConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (config.send_batch_max_size > 0 && config.send_batch_max_size < config.send_batch_size) {
    issues.push(error(['send_batch_max_size'],
      `must be 0 (no limit) or >= send_batch_size (${config.send_batch_size}), got ${config.send_batch_max_size}`));
  }
  return issues;
}
