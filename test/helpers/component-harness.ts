// What tests need to build a component directly: Settings, a Host, and a ComponentTelemetry
// that records every call so tests can assert the standard self-metrics.
import type { ComponentTelemetry, Host, Kind, Settings } from '../../pipeline/component';
import { silentLogger, type Logger } from '../../pipeline/logger';
import type { Signal } from '../../pipeline/pdata';

export interface TelemetryCall { what: string; signal?: Signal; items: number; reason?: string; attributes?: Record<string, string> }

export class RecordingTelemetry implements ComponentTelemetry {
  readonly calls: TelemetryCall[] = [];
  accepted(signal: Signal, items: number): void { this.calls.push({ what: 'accepted', signal, items }); }
  refused(signal: Signal, items: number): void { this.calls.push({ what: 'refused', signal, items }); }
  dropped(signal: Signal, items: number, reason: string): void { this.calls.push({ what: 'dropped', signal, items, reason }); }
  sent(signal: Signal, items: number): void { this.calls.push({ what: 'sent', signal, items }); }
  failed(signal: Signal, items: number): void { this.calls.push({ what: 'failed', signal, items }); }
  observeGauge(): void {}
  count(name: string, value: number, attributes?: Record<string, string>): void {
    this.calls.push({ what: name, items: value, ...(attributes ? { attributes } : {}) });
  }

  /** Items of one kind of call (accepted, refused, a count() name...), optionally for one signal. */
  total(what: string, signal?: Signal): number {
    return this.calls.filter((c) => c.what === what && (!signal || c.signal === signal)).reduce((n, c) => n + c.items, 0);
  }

  /** Every count() total keyed `name` or `name:reason`, for assertion messages. */
  summary(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.calls) {
      const k = c.attributes?.['reason'] ? `${c.what}:${c.attributes['reason']}` : c.what;
      out[k] = (out[k] ?? 0) + c.items;
    }
    return out;
  }

  /** A count() total whose attributes include all of `attributes`. */
  countOf(name: string, attributes: Record<string, string> = {}): number {
    return this.calls
      .filter((c) => c.what === name && Object.entries(attributes).every(([k, v]) => c.attributes?.[k] === v))
      .reduce((n, c) => n + c.items, 0);
  }
}

export const testHost: Host = {
  getExtension: () => undefined,
  reportFatalError: () => undefined,
  describe: () => ({ pipelines: [], components: [] }),
  stats: () => [],
};

export function testSettings(telemetry: ComponentTelemetry, id: string, kind: Kind, logger: Logger = silentLogger): Settings {
  return { id, kind, logger, telemetry, buildInfo: { command: 'sonde', version: 'test' } };
}
