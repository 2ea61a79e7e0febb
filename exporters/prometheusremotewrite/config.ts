// The prometheusremotewrite exporter's config: the Collector's option names and meanings.
import { error, s, warning, type ConfigIssue, type Infer } from '../../pipeline/config/schema';
import { validateQueue, type QueueConfig } from '../../pipeline/exporterhelper';
import { clientTlsSchema, validateTls } from '../../pipeline/otlp/transport-tls';
import { isValidLabelName } from '../../pipeline/prometheus/naming';
import { isHttpUrl } from '../../pipeline/otlp/http-transport';

/**
 * The shared sending_queue keys, but one consumer by default: batches carry the same series, and
 * with several in flight a retried older batch lands behind a newer one and Prometheus refuses
 * it as out of order (a permanent 400). One consumer keeps every series in time order.
 */
const sendingQueueSchema = s.object({
  enabled: s.bool({ default: true }),
  num_consumers: s.int({ default: 1, min: 1 }),
  queue_size: s.int({ default: 10000, min: 1 }),
  sizer: s.enum(['requests', 'items', 'bytes'], { default: 'requests' }),
  storage: s.optional(s.string({ nonEmpty: true })),
  block_on_overflow: s.bool({ default: false }),
}, { renamed: { blocking: 'block_on_overflow' } });

/** The shared retry_on_failure keys with this exporter's Collector defaults (50ms, 200ms, 1m). */
const retrySchema = s.object({
  enabled: s.bool({ default: true }),
  initial_interval: s.duration({ default: '50ms' }),
  randomization_factor: s.number({ default: 0.5, min: 0, max: 1 }),
  multiplier: s.number({ default: 1.5, min: 1 }),
  max_interval: s.duration({ default: '200ms' }),
  /** 0 retries forever. */
  max_elapsed_time: s.duration({ default: '1m' }),
});

export const configSchema = s.object({
  /** The remote-write URL, e.g. http://prometheus:9090/api/v1/write. */
  endpoint: s.string({ default: '' }),
  headers: s.map(s.string()),
  timeout: s.duration({ default: '5s' }),
  tls: clientTlsSchema,
  /** Remote write 1.0 is snappy (block format) by definition. */
  compression: s.enum(['snappy'], { default: 'snappy' }),
  namespace: s.string({ default: '' }),
  external_labels: s.map(s.string()),
  resource_to_telemetry_conversion: s.object({ enabled: s.bool({ default: false }) }),
  target_info: s.object({ enabled: s.bool({ default: true }) }),
  add_metric_suffixes: s.bool({ default: true }),
  send_metadata: s.bool({ default: false }),
  /** Uncompressed bytes per WriteRequest; larger batches are split. */
  max_batch_size_bytes: s.int({ default: 3_000_000, min: 1 }),
  /** The Collector's queue block for this exporter; its keys override sending_queue's. */
  remote_write_queue: s.object({
    enabled: s.optional(s.bool()),
    queue_size: s.optional(s.int({ min: 1 })),
    num_consumers: s.optional(s.int({ min: 1 })),
  }),
  sending_queue: sendingQueueSchema,
  retry_on_failure: retrySchema,
  /**
   * The Collector's write-ahead log: here the persistent sending queue in this directory
   * (batches fsync'ed before they are accepted, sent again after a restart).
   */
  wal: s.optional(s.object({
    directory: s.string({ nonEmpty: true }),
    /** Accepted for Collector files; queue files are deleted as soon as their batches are sent. */
    buffer_size: s.int({ default: 300, min: 1 }),
    /** Accepted for Collector files; see buffer_size. */
    truncate_frequency: s.duration({ default: '1m' }),
  })),
}, {
  ignored: {
    export_created_metric: 'no _created series are written',
    max_idle_conns: 'the keep-alive agent manages idle connections',
    idle_conn_timeout: 'the keep-alive agent manages idle connections',
    read_buffer_size: 'Node sizes socket buffers',
    write_buffer_size: 'Node sizes socket buffers',
    auth: 'authenticator extensions are not supported yet; use headers',
    proxy_url: 'proxies are not supported yet',
  },
});

export type RemoteWriteExporterConfig = Infer<typeof configSchema>;

/** The storage id the exporter answers itself when `wal` is set (see exporter.ts). */
export const WAL_STORAGE_ID = 'file_storage/prometheusremotewrite-wal';

/** sending_queue with remote_write_queue's keys applied, and the WAL as its storage. */
export function effectiveQueue(config: RemoteWriteExporterConfig): QueueConfig {
  const q = { ...config.sending_queue };
  if (config.wal) q.storage = WAL_STORAGE_ID;
  const rwq = config.remote_write_queue;
  if (rwq.enabled !== undefined) q.enabled = rwq.enabled;
  if (rwq.queue_size !== undefined) q.queue_size = rwq.queue_size;
  if (rwq.num_consumers !== undefined) q.num_consumers = rwq.num_consumers;
  return q;
}

export function validate(config: RemoteWriteExporterConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [...validateTls(config.tls, ['tls']), ...validateQueue(effectiveQueue(config), ['sending_queue'])];
  if (!config.endpoint) issues.push(error(['endpoint'], 'endpoint is required (the remote-write URL, e.g. http://127.0.0.1:9090/api/v1/write)'));
  else if (!isHttpUrl(config.endpoint)) issues.push(error(['endpoint'], `expected an http:// or https:// URL, got "${config.endpoint}"`));
  for (const name of Object.keys(config.external_labels)) {
    if (!isValidLabelName(name) || name.startsWith('__')) issues.push(error(['external_labels', name], `"${name}" is not a valid Prometheus label name`));
  }
  const consumers = effectiveQueue(config).num_consumers;
  if (consumers > 1) {
    const where = config.remote_write_queue.num_consumers !== undefined ? ['remote_write_queue', 'num_consumers'] : ['sending_queue', 'num_consumers'];
    issues.push(warning(where, `${consumers} consumers send batches in parallel: a retried batch can land behind a newer one and Prometheus refuses its samples as out of order (400, dropped); 1 keeps every series in order`));
  }
  if (config.wal) {
    if (config.sending_queue.storage) issues.push(error(['wal'], 'wal and sending_queue.storage are two ways to keep batches on disk: use one'));
    if (!effectiveQueue(config).enabled) issues.push(error(['wal'], 'the wal is the sending queue on disk: it needs the queue enabled'));
  }
  return issues;
}
