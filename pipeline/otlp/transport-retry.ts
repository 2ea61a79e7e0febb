// retry_on_failure and sending_queue with the Collector's option names and defaults, implemented
// minimally for the OTLP exporters: exponential backoff of retryable failures within
// max_elapsed_time, and a bound on concurrent and waiting batches. consume() still resolves only
// once the backend has the data; the shared exporter helper (persistent queue) replaces this.
import { s, warning, type ConfigIssue, type Infer, type Path } from '../config/schema';
import { errorMessage, isPermanent, retryAfterMs, RetryableError } from '../errors';

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
  queue_size: s.int({ default: 1000, min: 1 }),
  storage: s.optional(s.string()),
  block_on_overflow: s.bool({ default: false }),
}, {
  renamed: { blocking: 'block_on_overflow' },
  ignored: { sizer: 'the queue counts batches (requests)', wait_for_result: 'consume always waits for the backend', batch: 'use the batch processor' },
});
export type QueueConfig = Infer<typeof queueSchema>;

export function validateQueue(q: QueueConfig, path: Path): ConfigIssue[] {
  if (q.storage) return [warning([...path, 'storage'], 'a persistent queue is not implemented yet: batches are held in memory only')];
  return [];
}

/** Runs attempt() until it succeeds, fails permanently, or the retry budget is spent. */
export async function sendWithRetry<T>(cfg: RetryConfig, attempt: () => Promise<T>, abort: AbortSignal): Promise<T> {
  const started = Date.now();
  let interval = cfg.initial_interval;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (!cfg.enabled || isPermanent(err) || abort.aborted) throw err;
      // A server's RetryInfo / Retry-After wins over a shorter backoff.
      const delay = Math.max(jitter(interval, cfg.randomization_factor), retryAfterMs(err) ?? 0);
      if (cfg.max_elapsed_time > 0 && Date.now() - started + delay > cfg.max_elapsed_time) {
        throw new RetryableError(`no more retries left: ${errorMessage(err)}`, { cause: err, retryAfterMs: retryAfterMs(err) });
      }
      await sleep(delay, abort, err);
      interval = Math.min(interval * cfg.multiplier, cfg.max_interval);
    }
  }
}

function jitter(interval: number, factor: number): number {
  const delta = factor * interval;
  return interval - delta + Math.random() * (2 * delta);
}

function sleep(ms: number, abort: AbortSignal, last: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = (): void => {
      clearTimeout(timer);
      reject(new RetryableError(`shutting down, retry abandoned: ${errorMessage(last)}`, { cause: last }));
    };
    const timer = setTimeout(() => {
      abort.removeEventListener('abort', stop);
      resolve();
    }, ms);
    abort.addEventListener('abort', stop, { once: true });
  });
}

/** num_consumers batches in flight, at most queue_size more waiting; beyond that a refusal. */
export class SendLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly cfg: QueueConfig) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.cfg.enabled) return fn();
    if (this.active >= this.cfg.num_consumers) {
      if (this.waiting.length >= this.cfg.queue_size && !this.cfg.block_on_overflow) {
        throw new RetryableError(`sending queue is full (${this.cfg.queue_size} batches)`);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter, or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  /** Batches waiting for a sender (a gauge). */
  get queued(): number { return this.waiting.length; }
}
