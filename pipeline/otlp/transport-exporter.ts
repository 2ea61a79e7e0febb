// The part the OTLP gRPC and HTTP exporters share: a transport sends one request; this wraps it
// with the limiter, the retry loop, partial-success accounting and the standard self-metrics.
import type { Component, Consumer, Settings, SignalConsumers } from '../component';
import { errorMessage, isPermanent, PermanentError, retryAfterMs, RetryableError } from '../errors';
import { countItems, type Signal, type SignalData } from '../pdata';
import { SendLimiter, sendWithRetry, type QueueConfig, type RetryConfig } from './transport-retry';

/** What the backend said about an accepted request. */
export interface PartialSuccess { rejected: number; message: string }

export interface Transport {
  /** Reads certificates, builds the client; fails fast on bad files. */
  start(): Promise<void>;
  /** One attempt; rejects with PermanentError or RetryableError (the core adds the component id). */
  send<S extends Signal>(signal: S, data: SignalData[S]): Promise<PartialSuccess>;
  close(): Promise<void>;
}

export interface ExporterOptions { retry: RetryConfig; queue: QueueConfig }

export class OtlpExporterCore implements Component {
  readonly consumers: SignalConsumers = {};
  private readonly limiter: SendLimiter;
  private readonly abort = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly settings: Settings, signals: readonly Signal[], private readonly transport: Transport, private readonly opts: ExporterOptions) {
    this.limiter = new SendLimiter(opts.queue);
    for (const signal of signals) this.consumers[signal] = this.consumerFor(signal) as never;
  }

  async start(): Promise<void> {
    await this.transport.start();
    this.started = true;
    this.settings.telemetry.observeGauge('queue_size', 'batches waiting for a sender', () => this.limiter.queued);
  }

  shutdown(): Promise<void> {
    this.stopping ??= this.stop();
    return this.stopping;
  }

  private async stop(): Promise<void> {
    // Abandon backoff waits (their batches go back to the caller as retryable), let attempts on
    // the wire finish within their timeout, then close.
    this.abort.abort();
    await Promise.allSettled([...this.inFlight]);
    if (this.started) await this.transport.close();
  }

  private consumerFor<S extends Signal>(signal: S): Consumer<SignalData[S]> {
    return { consume: (data) => this.track(this.export(signal, data)) };
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const done = (): void => { this.inFlight.delete(p); };
    p.then(done, done);
    return p;
  }

  private async export<S extends Signal>(signal: S, data: SignalData[S]): Promise<void> {
    const items = countItems(signal, data);
    const { telemetry, logger } = this.settings;
    if (this.stopping || !this.started) {
      telemetry.failed(signal, items);
      throw new RetryableError(`${this.settings.id}: exporter is not running`);
    }
    try {
      const partial = await this.limiter.run(() => sendWithRetry(this.opts.retry, () => this.transport.send(signal, data), this.abort.signal));
      const rejected = Math.min(partial.rejected, items);
      telemetry.sent(signal, items - rejected);
      if (rejected > 0) {
        telemetry.dropped(signal, rejected, 'rejected_by_backend');
        logger.warn('backend rejected part of a batch', { signal, rejected, items, message: partial.message });
      } else if (partial.message) {
        logger.warn('backend accepted a batch with a warning', { signal, items, message: partial.message });
      }
    } catch (err) {
      telemetry.failed(signal, items);
      logger.warn('export failed', { signal, items, permanent: isPermanent(err), error: errorMessage(err) });
      throw withContext(`${this.settings.id}: export ${signal}`, err);
    }
  }
}

/** The same class of error, its message prefixed with who failed and at what. */
function withContext(prefix: string, err: unknown): Error {
  const message = `${prefix}: ${errorMessage(err)}`;
  if (isPermanent(err)) return new PermanentError(message, { cause: err });
  return new RetryableError(message, { cause: err, retryAfterMs: retryAfterMs(err) });
}
