// Writes each batch as text to a stream (stdout by default), sampled per signal as the
// Collector's debug exporter does: the first `sampling_initial` batches each second, then one in
// `sampling_thereafter`. One write per batch; consume resolves once the stream took it.
import type { Component, Host, Settings, SignalConsumers } from '../../pipeline/component';
import { countItems, type Signal, type SignalData } from '../../pipeline/pdata';
import type { DebugConfig } from './config';
import { formatBatch } from './format';

/** What the exporter writes to: process.stdout or any Writable. */
export interface TextOutput {
  write(chunk: string, callback: (err?: Error | null) => void): boolean;
}

/** zap-style sampling: per one-second window, the first N pass, then every Mth. */
export class Sampler {
  private windowStart = Number.NEGATIVE_INFINITY;
  private seen = 0;

  constructor(private readonly initial: number, private readonly thereafter: number, private readonly now: () => number = Date.now) {}

  allow(): boolean {
    const t = this.now();
    if (t - this.windowStart >= 1000) {
      this.windowStart = t;
      this.seen = 0;
    }
    this.seen++;
    if (this.seen <= this.initial) return true;
    return this.thereafter > 0 && (this.seen - this.initial) % this.thereafter === 0;
  }
}

export class DebugExporter implements Component {
  readonly consumers: SignalConsumers = {};
  private readonly samplers = new Map<Signal, Sampler>();

  constructor(
    private readonly settings: Settings,
    private readonly cfg: DebugConfig,
    signals: readonly Signal[],
    private readonly out: TextOutput = process.stdout,
    now: () => number = Date.now,
  ) {
    for (const signal of signals) {
      this.samplers.set(signal, new Sampler(cfg.sampling_initial, cfg.sampling_thereafter, now));
      const consumer = { consume: (data: SignalData[typeof signal]) => this.export(signal, data) };
      (this.consumers as Record<Signal, unknown>)[signal] = consumer;
    }
  }

  async start(_host: Host): Promise<void> {}
  async shutdown(): Promise<void> {}

  private async export<S extends Signal>(signal: S, data: SignalData[S]): Promise<void> {
    const items = countItems(signal, data);
    const t = this.settings.telemetry;
    // A batch sampled out was still handled as configured: it counts as sent.
    if (this.samplers.get(signal)?.allow() !== false) {
      const text = formatBatch(signal, data, this.cfg.verbosity).join('\n') + '\n';
      try {
        await new Promise<void>((resolve, reject) => { this.out.write(text, (err) => (err ? reject(err) : resolve())); });
      } catch (err) {
        t.failed(signal, items);
        throw err;
      }
    }
    t.sent(signal, items);
  }
}
