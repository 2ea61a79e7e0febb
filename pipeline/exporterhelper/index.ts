// The shared exporter helper: sending_queue (in memory or on a storage extension's disk),
// retry_on_failure, timeout. See helper.ts for ownership and shutdown semantics.
export { queueSchema, retrySchema, validateQueue, type QueueConfig, type RetryConfig } from './config';
export { ExporterHelper, DEFAULT_DRAIN_TIMEOUT_MS, type ExporterHelperOptions, type PushFunc, type PushResult } from './helper';
export { isStorageExtension, type DiskBudget, type QueueLocation, type StorageExtension } from './storage';
export { realClock, withRetry, backoffDelay, type Clock, type GiveUpReason } from './retry';
