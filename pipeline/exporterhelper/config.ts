// sending_queue and retry_on_failure with the Collector's option names, defaults and meanings,
// so a Collector user's exporter block carries over unchanged.
import { error, s, type ConfigIssue, type Infer, type Path } from '../config/schema';

export const retrySchema = s.object({
  enabled: s.bool({ default: true }),
  initial_interval: s.duration({ default: '5s' }),
  randomization_factor: s.number({ default: 0.5, min: 0, max: 1 }),
  multiplier: s.number({ default: 1.5, min: 1 }),
  max_interval: s.duration({ default: '30s' }),
  /** 0 retries forever. */
  max_elapsed_time: s.duration({ default: '300s' }),
});
export type RetryConfig = Infer<typeof retrySchema>;

export const queueSchema = s.object({
  enabled: s.bool({ default: true }),
  num_consumers: s.int({ default: 10, min: 1 }),
  /** In batches (requests): the only sizer Sonde implements. */
  queue_size: s.int({ default: 1000, min: 1 }),
  sizer: s.enum(['requests', 'items', 'bytes'], { default: 'requests' }),
  /** `file_storage/<name>`: a persistent queue on that extension's disk. */
  storage: s.optional(s.string({ nonEmpty: true })),
  block_on_overflow: s.bool({ default: false }),
}, {
  renamed: { blocking: 'block_on_overflow' },
  ignored: {
    wait_for_result: 'consume resolves once the queue holds the batch; disable the queue to wait for the backend',
    batch: 'use the batch processor',
  },
});
export type QueueConfig = Infer<typeof queueSchema>;

export function validateQueue(q: QueueConfig, path: Path): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (q.sizer !== 'requests') issues.push(error([...path, 'sizer'], `only "requests" is supported (queue_size counts batches), got "${q.sizer}"`));
  if (q.storage !== undefined && !/^file_storage(\/.+)?$/.test(q.storage)) {
    issues.push(error([...path, 'storage'], `expected a storage extension id such as file_storage/queue, got "${q.storage}"`));
  }
  return issues;
}
