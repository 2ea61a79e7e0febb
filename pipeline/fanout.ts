// One consumer that hands a batch to several. Consumers that mutate data get their own copy;
// the others share the original read-only. The batch is accepted only if every branch
// accepted it; the error says which branches failed, and it is permanent only if every
// failure was (a retry would otherwise duplicate into the branches that succeeded, which the
// sender's at-least-once contract allows, while a lost retryable batch would not be allowed).
import type { Consumer } from './component';
import { PermanentError, RetryableError, errorMessage, isPermanent, retryAfterMs } from './errors';
import type { Signal, SignalData } from './pdata';
import { cloneData } from './pdata-ops';

export interface Branch<T> { id: string; consumer: Consumer<T> }

export function fanout<S extends Signal>(signal: S, branches: readonly Branch<SignalData[S]>[]): Consumer<SignalData[S]> {
  if (branches.length === 1) return branches[0]!.consumer;
  return {
    mutatesData: false,
    async consume(data) {
      const results = await Promise.allSettled(
        branches.map((b) => b.consumer.consume(b.consumer.mutatesData ? cloneData(signal, data) : data)),
      );
      const failures: { id: string; err: unknown }[] = [];
      results.forEach((r, i) => { if (r.status === 'rejected') failures.push({ id: branches[i]!.id, err: r.reason }); });
      if (failures.length === 0) return;
      throw combine(failures);
    },
  };
}

/** Names every failed branch; keeps the error class (permanent only if all were). */
function combine(failures: { id: string; err: unknown }[]): Error {
  const message = failures.map((f) => `${f.id}: ${errorMessage(f.err)}`).join('; ');
  if (failures.every((f) => isPermanent(f.err))) return new PermanentError(message);
  const waits = failures.map((f) => retryAfterMs(f.err)).filter((w): w is number => w !== undefined);
  return new RetryableError(message, waits.length ? { retryAfterMs: Math.max(...waits) } : undefined);
}
