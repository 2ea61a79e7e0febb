// The memory check behind every memory_limiter processor with the same id and config: one timer
// per process (memory is per process, whatever the number of pipelines), a state that consume()
// reads without measuring, and one log line per change of state, never one per batch.
import type { Logger } from '../../pipeline/logger';
import type { Limits } from './config';

export type MemoryState = 'normal' | 'soft_limited' | 'hard_limited';

export interface MonitorOptions {
  checkIntervalMs: number;
  minGcIntervalSoftMs: number;
  minGcIntervalHardMs: number;
  limits: Limits;
  logger: Logger;
  /** Test seams: the process's memory, a forced GC, the clock. */
  readRss: () => number;
  forceGc: () => boolean;
  now?: () => number;
}

const MiB = 1024 * 1024;
const mib = (bytes: number): number => Math.round(bytes / MiB);

export class MemoryMonitor {
  private stateNow: MemoryState = 'normal';
  private lastGc = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private gcUnavailableLogged = false;
  /** The last RSS measured, for the gauge. */
  lastRss = 0;
  gcCount = 0;

  constructor(private readonly opts: MonitorOptions) {}

  get state(): MemoryState { return this.stateNow; }
  /** True while data must be refused (at or above the soft limit). */
  get limited(): boolean { return this.stateNow !== 'normal'; }

  start(): void {
    if (this.timer) return;
    this.check();
    this.timer = setInterval(() => this.check(), this.opts.checkIntervalMs);
    // Measuring alone must not keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Measures, forces a GC when due, and moves to the state the measure says. */
  check(): void {
    const { limits } = this.opts;
    let rss = this.opts.readRss();
    if (rss >= limits.soft) {
      const hard = rss >= limits.hard;
      const minGap = hard ? this.opts.minGcIntervalHardMs : this.opts.minGcIntervalSoftMs;
      if (this.now() - this.lastGc >= minGap && this.gc()) rss = this.opts.readRss();
    }
    this.lastRss = rss;
    this.enter(rss >= limits.hard ? 'hard_limited' : rss >= limits.soft ? 'soft_limited' : 'normal', rss);
  }

  private gc(): boolean {
    this.lastGc = this.now();
    if (this.opts.forceGc()) {
      this.gcCount++;
      return true;
    }
    if (!this.gcUnavailableLogged) {
      this.gcUnavailableLogged = true;
      this.opts.logger.warn('cannot force a garbage collection in this runtime; relying on V8 to collect');
    }
    return false;
  }

  private enter(next: MemoryState, rss: number): void {
    const prev = this.stateNow;
    if (next === prev) return;
    this.stateNow = next;
    const fields = { rss_mib: mib(rss), soft_limit_mib: mib(this.opts.limits.soft), limit_mib: mib(this.opts.limits.hard), previous: prev, state: next };
    if (next === 'normal') this.opts.logger.info('memory usage back under the soft limit: accepting data', fields);
    else if (next === 'hard_limited') this.opts.logger.warn('memory usage above the hard limit: refusing data, forcing GC', fields);
    else this.opts.logger.warn('memory usage above the soft limit: refusing data', fields);
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : performance.now();
  }
}

/** Monitors shared by key (id + config); started by the first user, stopped by the last. */
const shared = new Map<string, { monitor: MemoryMonitor; users: number }>();

export function acquireMonitor(key: string, create: () => MemoryMonitor): MemoryMonitor {
  let entry = shared.get(key);
  if (!entry) {
    entry = { monitor: create(), users: 0 };
    shared.set(key, entry);
    entry.monitor.start();
  }
  entry.users++;
  return entry.monitor;
}

export function releaseMonitor(key: string): void {
  const entry = shared.get(key);
  if (!entry || --entry.users > 0) return;
  entry.monitor.stop();
  shared.delete(key);
}
