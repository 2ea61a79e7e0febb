// The exporter helper every exporter wraps its push(signal, data) in, in the Collector's order:
// queue -> self-metrics -> retry -> timeout -> push.
//
// Ownership. With sending_queue enabled (the default), consume() resolves once the queue holds
// the batch: from then on the exporter owns it, and every way it can be lost is counted as
// dropped{reason}: permanent_error, retries_exhausted (max_elapsed_time), retry_disabled,
// shutdown, rejected_by_backend (partial success), corrupt_record (persistent queue). With
// `storage`, "holds" means written to the queue file first. A full queue refuses with a
// RetryableError (counted as refused, i.e. sonde_exporter_enqueue_failed: the sender still owns
// the data, receivers answer UNAVAILABLE / 503 and senders retry) unless block_on_overflow,
// which waits for room. Without the queue consume() resolves once the backend took the batch,
// and rejects with the final error (counted as failed): the caller still owns the data.
//
// Shutdown stops intake and every backoff wait at once. The in-memory queue is drained with one
// attempt per batch for up to drainTimeoutMs; what is left or fails is dropped{shutdown}. A
// persistent queue is not drained: the attempts under way finish, and everything not sent stays
// on disk for the next start.
import type { Component, Consumer, Host, Settings, SignalConsumers } from '../component';
import { ComponentError, errorMessage, isPermanent, PermanentError, retryAfterMs, RetryableError } from '../errors';
import { codecs } from '../otlp/codec';
import { countItems, type Signal, type SignalData } from '../pdata';
import type { QueueConfig, RetryConfig } from './config';
import { MemoryQueue, type BatchQueue } from './memory-queue';
import { PersistentQueue } from './persistent-queue';
import { realClock, withRetry, withTimeout, type AttemptOutcome, type Clock, type GiveUpReason } from './retry';
import { isStorageExtension } from './storage';

/**
 * What the backend said about an accepted batch (OTLP partial success). `reason` labels the
 * rejected items' drop when the exporter knows better than the default `rejected_by_backend`
 * (e.g. `oversize`: an item too large to send at all).
 */
export interface PushResult { rejected: number; message: string; reason?: string }

/** One attempt to send one batch; rejects with PermanentError or anything retryable. */
export type PushFunc = <S extends Signal>(signal: S, data: SignalData[S]) => Promise<PushResult | void>;

export interface ExporterHelperOptions {
  queue: QueueConfig;
  retry: RetryConfig;
  /** Per attempt, in ms; 0 = no limit. */
  timeoutMs: number;
  /** Opens what push needs (clients); a rejection fails the exporter's start. */
  start?: () => Promise<void>;
  /** Closes it, after the queue stopped. */
  close?: () => Promise<void>;
  clock?: Clock;
  /** How long shutdown keeps draining the in-memory queue. */
  drainTimeoutMs?: number;
}

export const DEFAULT_DRAIN_TIMEOUT_MS = 5000;
/** At most one log line per interval about failed batches, whatever their number. */
const FAILURE_LOG_INTERVAL_MS = 30_000;

export class ExporterHelper implements Component {
  readonly consumers: SignalConsumers = {};
  private readonly lanes = new Map<Signal, Lane<Signal>>();
  private readonly abort = new AbortController();
  private readonly direct = new Set<Promise<unknown>>();
  private readonly clock: Clock;
  private readonly failures: FailureLog;
  private running = false;
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly settings: Settings, private readonly signals: readonly Signal[], private readonly push: PushFunc, private readonly opts: ExporterHelperOptions) {
    this.clock = opts.clock ?? realClock;
    this.failures = new FailureLog(settings, this.clock);
    for (const signal of signals) this.consumers[signal] = this.consumerFor(signal) as never;
  }

  async start(host: Host): Promise<void> {
    await this.opts.start?.();
    this.started = true;
    if (this.opts.queue.enabled) {
      for (const signal of this.signals) this.lanes.set(signal, this.openLane(signal, host));
      this.observeQueue();
    }
    this.running = true;
  }

  shutdown(): Promise<void> {
    this.stopping ??= this.stop();
    return this.stopping;
  }

  /** Batches waiting in the queues (for tests and gauges). */
  get queued(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.queue.size;
    return n;
  }

  // ---- intake ----------------------------------------------------------------------------------

  private consumerFor<S extends Signal>(signal: S): Consumer<SignalData[S]> {
    return { consume: (data) => (this.opts.queue.enabled ? this.enqueue(signal, data) : this.track(this.sendNow(signal, data))) };
  }

  private notRunning(signal: Signal, items: number): Error {
    this.settings.telemetry.failed(signal, items);
    return new RetryableError(`${this.settings.id}: exporter is not running`);
  }

  private async enqueue<S extends Signal>(signal: S, data: SignalData[S]): Promise<void> {
    const items = countItems(signal, data);
    const lane = this.lanes.get(signal) as Lane<S> | undefined;
    if (!this.running || !lane) throw this.notRunning(signal, items);
    let item: unknown;
    try {
      item = lane.encode(data);
    } catch (err) {
      this.settings.telemetry.failed(signal, items);
      throw withContext(`${this.settings.id}: enqueue ${signal}`, err);
    }
    for (;;) {
      const r = this.offer(signal, items, lane, item);
      if (r === 'ok') return;
      if (!this.opts.queue.block_on_overflow || !this.running) {
        this.settings.telemetry.refused(signal, items);
        throw new RetryableError(`${this.settings.id}: ${r === 'disk_full' ? 'persistent queue is full: the storage extension\'s max_size_mib is used up' : `sending queue is full (${lane.queue.capacity} batches)`}`);
      }
      await lane.queue.spaceAvailable();
      if (!this.running) throw this.notRunning(signal, items);
    }
  }

  private offer(signal: Signal, items: number, lane: Lane<Signal>, item: unknown): 'ok' | 'full' | 'disk_full' {
    try {
      return lane.queue.offer(item);
    } catch (err) {
      // A queue file that cannot be written (ENOSPC, EIO): refuse for now, the sender keeps it.
      this.settings.telemetry.refused(signal, items);
      throw new RetryableError(`${this.settings.id}: persistent queue write failed: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** Without a queue: the caller waits for the backend and gets the final error. */
  private async sendNow<S extends Signal>(signal: S, data: SignalData[S]): Promise<void> {
    const items = countItems(signal, data);
    if (!this.running) throw this.notRunning(signal, items);
    const outcome = await this.send(signal, data, items);
    if (outcome.ok) return;
    this.settings.telemetry.failed(signal, items);
    throw withContext(`${this.settings.id}: export ${signal}`, outcome.error);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.direct.add(p);
    const done = (): void => { this.direct.delete(p); };
    p.then(done, done);
    return p;
  }

  // ---- sending ---------------------------------------------------------------------------------

  /** retry -> timeout -> push, and the counts of a batch that went out. */
  private async send<S extends Signal>(signal: S, data: SignalData[S], items: number): Promise<AttemptOutcome<unknown>> {
    const what = `${this.settings.id}: export ${signal}`;
    const outcome = await withRetry(this.opts.retry, () => withTimeout(this.push(signal, data), this.opts.timeoutMs, what), this.abort.signal, this.clock);
    if (outcome.ok) this.countSent(signal, items, outcome.value as PushResult | void);
    return outcome;
  }

  private countSent(signal: Signal, items: number, result: PushResult | void): void {
    const rejected = Math.min(result?.rejected ?? 0, items);
    this.settings.telemetry.sent(signal, items - rejected);
    if (rejected > 0) {
      const reason = result?.reason ?? 'rejected_by_backend';
      this.settings.telemetry.dropped(signal, rejected, reason);
      this.failures.note(signal, reason, rejected, result?.message ?? '');
    } else if (result?.message) {
      this.failures.note(signal, 'accepted_with_warning', 0, result.message);
    }
  }

  /** A queue consumer: take, decode, send, ack; never throws. */
  private async work<S extends Signal>(signal: S, lane: Lane<S>): Promise<void> {
    for (;;) {
      const taken = await lane.queue.take();
      if (!taken) return;
      let data: SignalData[S];
      try {
        data = lane.decode(taken.item);
      } catch (err) {
        // Passed its checksum yet is not a request: skip it, counted, rather than stop the queue.
        this.settings.telemetry.dropped(signal, 1, 'corrupt_record');
        this.failures.note(signal, 'corrupt_record', 1, errorMessage(err));
        this.ack(signal, taken);
        continue;
      }
      const items = countItems(signal, data);
      const outcome = await this.send(signal, data, items);
      if (!outcome.ok) {
        // A persistent queue keeps what shutdown interrupted: it is sent after the next start.
        if (outcome.reason === 'shutdown' && lane.persistent) continue;
        this.drop(signal, items, outcome.reason, outcome.error);
      }
      this.ack(signal, taken);
    }
  }

  /** An ack that cannot be written only means the batch is sent again after a restart. */
  private ack(signal: Signal, taken: { ack(): void }): void {
    try {
      taken.ack();
    } catch (err) {
      this.failures.note(signal, 'ack_write_failed', 0, errorMessage(err));
    }
  }

  private drop(signal: Signal, items: number, reason: GiveUpReason, err: Error | undefined): void {
    this.settings.telemetry.dropped(signal, items, reason);
    this.failures.note(signal, reason, items, err ? errorMessage(err) : '');
  }

  // ---- queues ----------------------------------------------------------------------------------

  private openLane<S extends Signal>(signal: S, host: Host): Lane<S> {
    const q = this.opts.queue;
    const lane = q.storage ? this.persistentLane(signal, q.storage, host) : memoryLane<S>(q.queue_size);
    lane.workers = Array.from({ length: q.num_consumers }, () => this.work(signal, lane));
    return lane;
  }

  private persistentLane<S extends Signal>(signal: S, storageId: string, host: Host): Lane<S> {
    const ext = host.getExtension(storageId);
    if (!isStorageExtension(ext)) {
      throw new ComponentError(this.settings.id, `sending_queue.storage: "${storageId}" is not a running storage extension (define it under extensions and list it in service.extensions)`);
    }
    const location = ext.queueLocation(this.settings.kind, this.settings.id, signal);
    let opened: ReturnType<typeof PersistentQueue.open>;
    try {
      opened = PersistentQueue.open(location, this.opts.queue.queue_size);
    } catch (err) {
      throw new ComponentError(this.settings.id, `persistent queue in ${location.directory}: ${errorMessage(err)}`, { cause: err });
    }
    const { queue, report } = opened;
    if (report.recovered > 0 || report.corruptRecords > 0) {
      this.settings.logger.info('persistent queue recovered', { signal, directory: location.directory, batches: report.recovered, corrupt_records: report.corruptRecords, skipped_bytes: report.skippedBytes });
    }
    if (report.corruptRecords > 0) {
      this.settings.logger.warn('persistent queue: skipped corrupt records', { signal, directory: location.directory, corrupt_records: report.corruptRecords, skipped_bytes: report.skippedBytes });
      this.settings.telemetry.dropped(signal, report.corruptRecords, 'corrupt_record');
      this.settings.telemetry.count('exporter_queue_corrupt_records', report.corruptRecords, { signal });
    }
    const codec = codecs[signal] as unknown as { encodeRequest(d: SignalData[S]): Uint8Array; decodeRequest(b: Uint8Array): SignalData[S] };
    return {
      queue: queue as BatchQueue<unknown>,
      persistent: true,
      encode: (data) => toBuffer(codec.encodeRequest(data)),
      decode: (item) => codec.decodeRequest(item as Buffer),
      workers: [],
    };
  }

  private observeQueue(): void {
    const lanes = [...this.lanes.values()];
    this.settings.telemetry.observeGauge('exporter_queue_size', 'Batches waiting in the sending queue', () => lanes.reduce((n, l) => n + l.queue.size, 0));
    this.settings.telemetry.observeGauge('exporter_queue_capacity', 'Capacity of the sending queue, in batches', () => lanes.reduce((n, l) => n + l.queue.capacity, 0));
  }

  // ---- shutdown --------------------------------------------------------------------------------

  private async stop(): Promise<void> {
    this.running = false;
    this.abort.abort(); // no new backoff wait; attempts on the wire finish within their timeout
    for (const lane of this.lanes.values()) lane.queue.close(!lane.persistent);
    const workers = [...this.lanes.values()].flatMap((l) => l.workers);
    const memoryOnly = [...this.lanes.values()].every((l) => !l.persistent);
    const drained = Promise.allSettled(workers);
    if (memoryOnly) await Promise.race([drained, this.clock.sleep(this.opts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS, new AbortController().signal)]);
    else await drained;
    for (const [signal, lane] of this.lanes) {
      const rest = lane.queue.remaining() as SignalData[Signal][];
      const items = rest.reduce((n, d) => n + countItems(signal, d), 0);
      if (items > 0) this.drop(signal, items, 'shutdown', new Error(`${rest.length} batches still queued at the drain deadline`));
      lane.queue.dispose?.(); // persistent lanes got here only after their consumers stopped
    }
    await Promise.allSettled([...this.direct]);
    this.failures.flush();
    if (this.started) await this.opts.close?.();
  }
}

/** One signal's queue and its consumers. */
interface Lane<S extends Signal> {
  queue: BatchQueue<unknown>;
  persistent: boolean;
  encode(data: SignalData[S]): unknown;
  decode(item: unknown): SignalData[S];
  workers: Promise<void>[];
}

function memoryLane<S extends Signal>(capacity: number): Lane<S> {
  return {
    queue: new MemoryQueue<unknown>(capacity),
    persistent: false,
    encode: (data) => data,
    decode: (item) => item as SignalData[S],
    workers: [],
  };
}

/** Batches lost or rejected, summed per signal and reason: one line per interval, not per batch. */
class FailureLog {
  private pending = new Map<string, { signal: Signal; reason: string; batches: number; items: number; last: string }>();
  private lastFlush = -Infinity;

  constructor(private readonly settings: Settings, private readonly clock: Clock) {}

  note(signal: Signal, reason: string, items: number, message: string): void {
    const key = `${signal}/${reason}`;
    const e = this.pending.get(key) ?? { signal, reason, batches: 0, items: 0, last: '' };
    e.batches++;
    e.items += items;
    e.last = message;
    this.pending.set(key, e);
    if (this.clock.now() - this.lastFlush >= FAILURE_LOG_INTERVAL_MS) this.flush();
  }

  flush(): void {
    this.lastFlush = this.clock.now();
    for (const e of this.pending.values()) {
      this.settings.logger.warn('batches not delivered', { signal: e.signal, reason: e.reason, batches: e.batches, items: e.items, last_error: e.last });
    }
    this.pending.clear();
  }
}

/** The same class of error, its message prefixed with who failed and at what. */
function withContext(prefix: string, err: unknown): Error {
  const message = `${prefix}: ${errorMessage(err)}`;
  if (isPermanent(err)) return new PermanentError(message, { cause: err });
  return new RetryableError(message, { cause: err, retryAfterMs: retryAfterMs(err) });
}

function toBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}
