// One log line per interval that says what was lost, refused or failed since the last line, by
// component, signal and reason: drops are never logged per batch, and never silent either.
import type { ComponentStats } from '../component';
import type { Logger } from '../logger';

export const DROP_SUMMARY_INTERVAL_MS = 30_000;

/** Counts since the previous call that are worth a line, keyed "kind::id signal event[:reason]". */
export class DropSummary {
  private last = new Map<string, number>();

  constructor(private readonly snapshot: () => ComponentStats[], private readonly logger: Logger) {}

  /** Logs one warn line if anything was dropped, refused or failed since the previous call. */
  report(): void {
    const now = this.totals();
    const parts: string[] = [];
    let items = 0;
    for (const [key, total] of now) {
      const delta = total - (this.last.get(key) ?? 0);
      if (delta > 0) { parts.push(`${key}=${delta}`); items += delta; }
    }
    this.last = now;
    if (parts.length) this.logger.warn('data not delivered since the last summary', { items, details: parts.sort().join(', ') });
  }

  private totals(): Map<string, number> {
    const out = new Map<string, number>();
    for (const c of this.snapshot()) {
      for (const [signal, t] of Object.entries(c.signals)) {
        if (!t) continue;
        const base = `${c.kind}s::${c.id} ${signal}`;
        if (t.refused) out.set(`${base} refused`, t.refused);
        if (t.failed) out.set(`${base} failed`, t.failed);
        for (const [reason, n] of Object.entries(t.dropped)) if (n) out.set(`${base} dropped:${reason}`, n);
      }
    }
    return out;
  }
}
