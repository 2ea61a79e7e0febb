// Batching that keeps the caller in the loop. Unlike the Collector's batch processor, consume()
// resolves only once every item it handed over has been exported downstream, and rejects with
// the downstream error when any part of it failed: the receiver's caller sees back-pressure and
// failures, and nothing is dropped behind its back.
//
// Pending data is a queue of entries, one per consume() (or per max-size chunk of it). A send
// takes items from the head, cutting the last entry when needed; each owner counts the pieces of
// its data still in flight or pending and settles when none remain.
import type { Component, Consumer, Host, Settings } from '../../pipeline/component';
import { appendData, splitAt, splitByItems } from '../../pipeline/pdata-ops';
import { countItems, emptyData, type Signal, type SignalData } from '../../pipeline/pdata';
import type { BatchConfig } from './config';

/** Sends running at once; beyond it, new data waits (back-pressure) once a full batch is pending. */
export const DEFAULT_MAX_IN_FLIGHT = 8;

type Trigger = 'size' | 'timeout' | 'shutdown';

/** The caller of one consume(): settles when all its items are exported or one part failed. */
interface Owner {
  /** Pieces of its data in sends not yet finished. */
  inFlight: number;
  /** Items still pending in the queue. */
  pending: number;
  settled: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

interface Entry<T> {
  data: T;
  items: number;
  owner: Owner;
  /** performance.now() when it arrived: the timeout runs from the oldest pending item. */
  at: number;
}

export interface BatchOptions {
  maxInFlight?: number;
}

export class BatchProcessor<S extends Signal> implements Component, Consumer<SignalData[S]> {
  readonly mutatesData = false;
  private readonly queue: Entry<SignalData[S]>[] = [];
  /** Index of the first live entry: shifting a long array per send would be O(n). */
  private head = 0;
  private pendingItems = 0;
  private inFlight = 0;
  private readonly sends = new Set<Promise<void>>();
  private slotWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timedOut = false;
  private draining = false;
  private stopped: Promise<void> | undefined;
  private readonly maxInFlight: number;

  constructor(
    private readonly settings: Settings,
    private readonly cfg: BatchConfig,
    private readonly signal: S,
    private readonly next: Consumer<SignalData[S]>,
    opts: BatchOptions = {},
  ) {
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    settings.telemetry.observeGauge('batch_pending_items', 'items waiting in the batch processor', () => this.pendingItems);
  }

  async start(_host: Host): Promise<void> {}

  /** Flushes everything pending and waits for every send; safe twice and without start. */
  shutdown(): Promise<void> {
    return (this.stopped ??= this.drain());
  }

  async consume(data: SignalData[S]): Promise<void> {
    const items = countItems(this.signal, data);
    if (items === 0) return;
    // Once drained, nothing batches any more: pass straight through rather than refuse.
    if (this.stopped && !this.draining) return this.next.consume(data);
    while (!this.draining && this.inFlight >= this.maxInFlight && this.pendingItems >= this.cfg.send_batch_size) {
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
    return new Promise<void>((resolve, reject) => {
      const owner: Owner = { inFlight: 0, pending: items, settled: false, resolve, reject };
      this.enqueue(data, items, owner);
      this.pump();
    });
  }

  private enqueue(data: SignalData[S], items: number, owner: Owner): void {
    const at = performance.now();
    const max = this.cfg.send_batch_max_size;
    // Entries no larger than a send keep each cut O(send size), never O(entry size).
    if (max > 0 && items > max) {
      for (const part of splitByItems(this.signal, data, max)) {
        this.queue.push({ data: part, items: countItems(this.signal, part), owner, at });
      }
    } else {
      this.queue.push({ data, items, owner, at });
    }
    this.pendingItems += items;
  }

  /** Starts every send that is due and has a slot, then arms the timer for what is left. */
  private pump(): void {
    for (;;) {
      if (this.pendingItems === 0) {
        this.clearTimer();
        this.timedOut = false;
        // Only withdrawn entries of failed callers can be left: let them go.
        this.queue.length = 0;
        this.head = 0;
        return;
      }
      const trigger = this.due();
      if (trigger === undefined || this.inFlight >= this.maxInFlight) {
        this.armTimer();
        return;
      }
      this.send(trigger);
    }
  }

  private due(): Trigger | undefined {
    if (this.pendingItems >= this.cfg.send_batch_size) return 'size';
    if (this.draining) return 'shutdown';
    if (this.timedOut || this.cfg.timeout <= 0) return 'timeout';
    return undefined;
  }

  private armTimer(): void {
    if (this.timer !== undefined || this.timedOut || this.draining || this.cfg.timeout <= 0) return;
    const oldest = this.queue[this.head];
    if (!oldest) return;
    const delay = Math.max(0, oldest.at + this.cfg.timeout - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timedOut = true;
      this.pump();
    }, delay);
    // Shutdown flushes what is pending; the timer alone must not keep the process alive.
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private send(trigger: Trigger): void {
    const max = this.cfg.send_batch_max_size;
    const n = max > 0 ? Math.min(max, this.pendingItems) : this.pendingItems;
    const { batch, owners } = this.take(n);
    // The oldest item changed: the timeout now runs from the new head.
    if (trigger === 'size') this.clearTimer();
    this.countSend(trigger, n);
    this.inFlight++;
    const p: Promise<void> = this.export(batch, owners).finally(() => {
      this.inFlight--;
      this.sends.delete(p);
      this.wakeWaiters();
      this.pump();
    });
    this.sends.add(p);
  }

  /** The first n live items of the queue as one batch, with the owner of each piece. */
  private take(n: number): { batch: SignalData[S]; owners: Owner[] } {
    const batch = emptyData(this.signal);
    const owners: Owner[] = [];
    let need = n;
    while (need > 0 && this.head < this.queue.length) {
      const e = this.queue[this.head]!;
      // The rest of a failed caller's data: it has its error and will resend.
      if (e.owner.settled) {
        this.dropHead();
        continue;
      }
      let piece = e.items;
      if (piece <= need) {
        appendData(this.signal, batch, e.data);
        this.dropHead();
      } else {
        const [first, rest] = splitAt(this.signal, e.data, need);
        appendData(this.signal, batch, first);
        e.data = rest;
        e.items -= need;
        piece = need;
      }
      need -= piece;
      this.pendingItems -= piece;
      e.owner.pending -= piece;
      e.owner.inFlight++;
      owners.push(e.owner);
    }
    return { batch, owners };
  }

  private dropHead(): void {
    this.queue[this.head] = undefined as unknown as Entry<SignalData[S]>;
    this.head++;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private async export(batch: SignalData[S], owners: Owner[]): Promise<void> {
    try {
      await this.next.consume(batch);
    } catch (err) {
      for (const o of owners) this.fail(o, err);
      return;
    }
    for (const o of owners) this.succeed(o);
  }

  private succeed(o: Owner): void {
    o.inFlight--;
    if (!o.settled && o.inFlight === 0 && o.pending === 0) {
      o.settled = true;
      o.resolve();
    }
  }

  /** The caller hears at once; what it still had pending is withdrawn (it owns the resend). */
  private fail(o: Owner, err: unknown): void {
    o.inFlight--;
    if (o.settled) return;
    o.settled = true;
    this.pendingItems -= o.pending;
    o.pending = 0;
    o.reject(err);
  }

  private wakeWaiters(): void {
    const waiters = this.slotWaiters;
    this.slotWaiters = [];
    for (const w of waiters) w();
  }

  private countSend(trigger: Trigger, items: number): void {
    const t = this.settings.telemetry;
    t.count('batch_send_size', items, { trigger });
    if (trigger === 'size') t.count('batch_size_trigger_send', 1);
    else if (trigger === 'timeout') t.count('timeout_trigger_send', 1);
  }

  private async drain(): Promise<void> {
    this.draining = true;
    this.clearTimer();
    this.wakeWaiters();
    this.pump();
    while (this.sends.size > 0) {
      await Promise.race(this.sends);
      this.pump();
    }
    this.draining = false;
  }
}
