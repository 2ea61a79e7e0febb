// What the OTLP gRPC and HTTP exporters share: a transport sends one request and classifies the
// answer (PermanentError / RetryableError with the server's delay); the shared exporter helper
// adds the queue, retries, timeout and self-metrics around it.
import type { Settings } from '../component';
import { ExporterHelper, type PushResult, type QueueConfig, type RetryConfig } from '../exporterhelper';
import type { Signal, SignalData } from '../pdata';

/** What the backend said about an accepted request. */
export type PartialSuccess = PushResult;

export interface Transport {
  /** Reads certificates, builds the client; fails fast on bad files. */
  start(): Promise<void>;
  /** One attempt; rejects with PermanentError or RetryableError (the helper adds the component id). */
  send<S extends Signal>(signal: S, data: SignalData[S]): Promise<PartialSuccess>;
  close(): Promise<void>;
}

export interface OtlpExporterConfig { sending_queue: QueueConfig; retry_on_failure: RetryConfig; timeout: number }

/**
 * The transports enforce `timeout` themselves (a gRPC deadline, an HTTP timer) with their own
 * errors; the helper's guard, this much later, catches an attempt that never settles.
 */
const TIMEOUT_GUARD_MS = 1000;

export function otlpExporter(settings: Settings, signals: readonly Signal[], transport: Transport, config: OtlpExporterConfig): ExporterHelper {
  return new ExporterHelper(settings, signals, (signal, data) => transport.send(signal, data), {
    queue: config.sending_queue,
    retry: config.retry_on_failure,
    timeoutMs: config.timeout > 0 ? config.timeout + TIMEOUT_GUARD_MS : 0,
    start: () => transport.start(),
    close: () => transport.close(),
  });
}
