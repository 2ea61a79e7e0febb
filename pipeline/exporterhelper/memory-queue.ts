// The queue interface the helper's consumers read from, and its in-memory implementation: a
// FIFO bounded by queue_size batches.

export interface Taken<T> {
  item: T;
  /** Sent or dropped: the queue forgets it (a persistent queue records the ack). */
  ack(): void;
}

export interface BatchQueue<T> {
  readonly size: number;
  readonly capacity: number;
  /** Adds at the tail; returns why not when it cannot ('full': try again later). */
  offer(item: T): 'ok' | 'full' | 'disk_full';
  /** The head, waiting for one; undefined once closed (and, for a draining close, empty). */
  take(): Promise<Taken<T> | undefined>;
  /** Resolves when offer() may succeed again (an item left), or when the queue closes. */
  spaceAvailable(): Promise<void>;
  /** No more offers. drain: takers still get what is queued; otherwise they stop at once. */
  close(drain: boolean): void;
  /** What was never taken (after close), for counting as dropped. */
  remaining(): T[];
  /** Releases files and handles, once nothing taken can still be acked. */
  dispose?(): void;
}

export class MemoryQueue<T> implements BatchQueue<T> {
  private items: T[] = [];
  private head = 0;
  private closed = false;
  private draining = false;
  private readonly takers: ((t: Taken<T> | undefined) => void)[] = [];
  private spaceWaiters: (() => void)[] = [];

  constructor(readonly capacity: number) {}

  get size(): number { return this.items.length - this.head; }

  offer(item: T): 'ok' | 'full' {
    if (this.closed || this.size >= this.capacity) return 'full';
    const taker = this.takers.shift();
    if (taker) taker(this.wrap(item));
    else this.items.push(item);
    return 'ok';
  }

  take(): Promise<Taken<T> | undefined> {
    if (this.size > 0 && (!this.closed || this.draining)) return Promise.resolve(this.wrap(this.shift()));
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.takers.push(resolve));
  }

  spaceAvailable(): Promise<void> {
    if (this.closed || this.size < this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  close(drain: boolean): void {
    this.closed = true;
    this.draining = drain;
    for (const t of this.takers.splice(0)) t(undefined);
    this.wakeSpace();
  }

  remaining(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }

  private shift(): T {
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as unknown as T; // let the batch be collected
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.wakeSpace();
    return item;
  }

  private wakeSpace(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of waiters) w();
  }

  private wrap(item: T): Taken<T> {
    return { item, ack: () => {} };
  }
}
