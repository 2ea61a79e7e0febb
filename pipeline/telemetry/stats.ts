// In-memory totals per component, kept at every level (even `none`) because zpages shows them.
// One plain object per component and signal: an addition per batch, nothing per item.
import type { ComponentStats, Kind } from '../component';
import type { Signal } from '../pdata';

export interface SignalTotals { accepted: number; refused: number; sent: number; failed: number; dropped: Record<string, number> }

export class StatsEntry {
  private readonly signals: Partial<Record<Signal, SignalTotals>> = {};

  constructor(readonly id: string, readonly kind: Kind) {}

  totals(signal: Signal): SignalTotals {
    let t = this.signals[signal];
    if (!t) {
      t = { accepted: 0, refused: 0, sent: 0, failed: 0, dropped: {} };
      this.signals[signal] = t;
    }
    return t;
  }

  addDropped(signal: Signal, items: number, reason: string): void {
    const dropped = this.totals(signal).dropped;
    dropped[reason] = (dropped[reason] ?? 0) + items;
  }

  /** A copy, so callers (zpages) cannot change the live totals. */
  copy(): ComponentStats {
    const signals: ComponentStats['signals'] = {};
    for (const [signal, t] of Object.entries(this.signals) as [Signal, SignalTotals][]) {
      signals[signal] = { ...t, dropped: { ...t.dropped } };
    }
    return { id: this.id, kind: this.kind, signals };
  }
}

export class StatsTable {
  private readonly entries = new Map<string, StatsEntry>();

  /** The same entry for the same kind and id: a component asking twice keeps one set of totals. */
  entry(id: string, kind: Kind): StatsEntry {
    const key = `${kind}\u0000${id}`;
    let e = this.entries.get(key);
    if (!e) {
      e = new StatsEntry(id, kind);
      this.entries.set(key, e);
    }
    return e;
  }

  snapshot(): ComponentStats[] {
    return [...this.entries.values()].map((e) => e.copy());
  }
}
