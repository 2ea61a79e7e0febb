// The memory_limiter processor: passes data on while memory is under the soft limit and refuses
// it with a retryable error above it, so receivers answer UNAVAILABLE / 503 + Retry-After and
// senders retry later. It must be the first processor of a pipeline: anything before it has
// already spent the memory it is meant to protect.
import type { Component, Consumer, Host, Settings } from '../../pipeline/component';
import { RetryableError } from '../../pipeline/errors';
import { countItems, type Signal, type SignalData } from '../../pipeline/pdata';
import { limitsOf, type MemoryLimiterConfig } from './config';
import { forceGc, readRss, totalMemory } from './memory';
import { acquireMonitor, MemoryMonitor, releaseMonitor } from './monitor';

/** Retry-After has a resolution of seconds; an earlier retry would only be refused again. */
const MIN_RETRY_AFTER_MS = 1000;

export interface MemoryLimiterOptions {
  /** Replaces the shared, process-wide monitor (tests). */
  monitor?: MemoryMonitor;
}

export class MemoryLimiterProcessor<S extends Signal> implements Component, Consumer<SignalData[S]> {
  readonly mutatesData = false;
  private monitor: MemoryMonitor | undefined;
  private readonly key: string;
  private readonly retryAfterMs: number;
  private acquired = false;

  constructor(
    private readonly settings: Settings,
    private readonly cfg: MemoryLimiterConfig,
    private readonly signal: S,
    private readonly next: Consumer<SignalData[S]>,
    opts: MemoryLimiterOptions = {},
  ) {
    this.monitor = opts.monitor;
    this.key = `${settings.id}\n${JSON.stringify(cfg)}`;
    this.retryAfterMs = Math.max(MIN_RETRY_AFTER_MS, cfg.check_interval);
  }

  async start(_host?: Host): Promise<void> {
    if (this.monitor || this.acquired) return;
    this.monitor = acquireMonitor(this.key, () => this.createMonitor());
    this.acquired = true;
  }

  async shutdown(): Promise<void> {
    if (!this.acquired) return;
    this.acquired = false;
    releaseMonitor(this.key);
  }

  async consume(data: SignalData[S]): Promise<void> {
    const items = countItems(this.signal, data);
    const t = this.settings.telemetry;
    if (this.monitor?.limited) {
      t.refused(this.signal, items);
      throw new RetryableError(`${this.settings.id}: data refused due to high memory usage`, { retryAfterMs: this.retryAfterMs });
    }
    t.accepted(this.signal, items);
    t.sent(this.signal, items);
    return this.next.consume(data);
  }

  private createMonitor(): MemoryMonitor {
    const limits = limitsOf(this.cfg, () => totalMemory());
    const logger = this.settings.logger;
    logger.info('memory limiter limits', {
      limit_mib: Math.round(limits.hard / 1048576), soft_limit_mib: Math.round(limits.soft / 1048576), check_interval_ms: this.cfg.check_interval,
    });
    const m = new MemoryMonitor({
      checkIntervalMs: this.cfg.check_interval,
      minGcIntervalSoftMs: this.cfg.min_gc_interval_when_soft_limited,
      minGcIntervalHardMs: this.cfg.min_gc_interval_when_hard_limited,
      limits,
      logger,
      readRss,
      forceGc,
    });
    // Once per monitor, not per pipeline: the pipelines share it.
    const t = this.settings.telemetry;
    t.observeGauge('memory_limiter_limited', '1 while the memory limiter refuses data, else 0', () => (m.limited ? 1 : 0));
    t.observeGauge('memory_limiter_rss_bytes', 'resident memory at the last check', () => m.lastRss);
    return m;
  }
}
