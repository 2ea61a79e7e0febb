// retry_on_failure: exponential backoff with jitter for retryable failures, bounded by
// max_elapsed_time; a server's Retry-After / RetryInfo wins over a shorter backoff. Time comes
// from an injectable Clock so tests check the schedule without waiting for it.
import { errorMessage, isPermanent, retryAfterMs, RetryableError } from '../errors';
import type { RetryConfig } from './config';

export interface Clock {
  now(): number;
  /** Resolves true after ms, or false as soon as `abort` fires. */
  sleep(ms: number, abort: AbortSignal): Promise<boolean>;
  /** Uniform in [0, 1): jitter. */
  random(): number;
}

export const realClock: Clock = {
  now: () => Date.now(),
  random: () => Math.random(),
  sleep(ms, abort) {
    if (abort.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const stop = (): void => { clearTimeout(timer); resolve(false); };
      const timer = setTimeout(() => { abort.removeEventListener('abort', stop); resolve(true); }, ms);
      abort.addEventListener('abort', stop, { once: true });
    });
  },
};

/** Why an export was given up; also the `reason` of the dropped counter. */
export type GiveUpReason = 'permanent_error' | 'retries_exhausted' | 'retry_disabled' | 'shutdown';

export type AttemptOutcome<T> = { ok: true; value: T } | { ok: false; reason: GiveUpReason; error: Error };

/** The delay before retry number `n` (0-based), before Retry-After is considered. */
export function backoffDelay(cfg: RetryConfig, n: number, random: number): number {
  const interval = Math.min(cfg.initial_interval * cfg.multiplier ** n, cfg.max_interval);
  const delta = cfg.randomization_factor * interval;
  return interval - delta + random * 2 * delta;
}

/**
 * Runs attempt() until it succeeds, fails permanently, or the retry budget is spent. Once
 * `abort` fires no further wait starts: the attempt under way finishes and its failure is final.
 */
export async function withRetry<T>(cfg: RetryConfig, attempt: () => Promise<T>, abort: AbortSignal, clock: Clock = realClock): Promise<AttemptOutcome<T>> {
  const started = clock.now();
  for (let n = 0; ; n++) {
    let err: unknown;
    try {
      return { ok: true, value: await attempt() };
    } catch (e) {
      err = e;
    }
    if (isPermanent(err)) return { ok: false, reason: 'permanent_error', error: asError(err) };
    if (!cfg.enabled) return { ok: false, reason: 'retry_disabled', error: asError(err) };
    if (abort.aborted) return shutdown(err);
    const delay = Math.max(backoffDelay(cfg, n, clock.random()), retryAfterMs(err) ?? 0);
    if (cfg.max_elapsed_time > 0 && clock.now() - started + delay > cfg.max_elapsed_time) {
      return { ok: false, reason: 'retries_exhausted', error: new RetryableError(`no more retries left: ${errorMessage(err)}`, { cause: err, retryAfterMs: retryAfterMs(err) }) };
    }
    if (!(await clock.sleep(delay, abort))) return shutdown(err);
  }
}

function shutdown(last: unknown): AttemptOutcome<never> {
  return { ok: false, reason: 'shutdown', error: new RetryableError(`shutting down, retry abandoned: ${errorMessage(last)}`, { cause: last }) };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Rejects with a RetryableError if `p` has not settled within ms (0: no limit). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  if (!(ms > 0)) return p;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RetryableError(`${what}: timeout after ${ms}ms`)), ms);
  });
  return Promise.race([p, expired]).finally(() => clearTimeout(timer));
}
