// The ComponentTelemetry a component receives: per batch, one addition to its in-memory totals
// and (level basic and up) one Counter.add() on an instrument and attribute set resolved on first
// use. Nothing here is per item.
import type { Attributes, Counter, Histogram } from '@opentelemetry/api';
import type { ComponentTelemetry, Kind } from '../component';
import type { TelemetryLevel } from '../config/types';
import type { Signal } from '../pdata';
import { atLeast, counterName, customName, PREFIX } from './names';
import type { CountEvent } from './names';
import type { StatsEntry } from './stats';

/** The shared instruments, one per metric name across components (owned by SelfTelemetry). */
export interface InstrumentSource {
  counter(name: string, description: string): Counter;
  histogram(name: string, description: string): Histogram;
  gauge(name: string, description: string, attributes: Attributes, read: () => number): void;
}

interface Slot { counter: Counter; attributes: Attributes }

type SignalSlots<T> = Partial<Record<Signal, T>>;

export class ComponentMeter implements ComponentTelemetry {
  private readonly base: Attributes;
  private readonly slots: Partial<Record<Exclude<CountEvent, 'dropped'>, SignalSlots<Slot>>> = {};
  private readonly droppedSlots: SignalSlots<{ counter: Counter; byReason: Map<string, Attributes> }> = {};
  private readonly batchSizes: SignalSlots<{ histogram: Histogram; attributes: Attributes }> = {};

  constructor(
    private readonly id: string,
    private readonly kind: Kind,
    private readonly stats: StatsEntry,
    private readonly level: TelemetryLevel,
    /** Undefined at level none: totals only. */
    private readonly instruments: InstrumentSource | undefined,
  ) {
    this.base = { [kind]: id };
  }

  accepted(signal: Signal, items: number): void {
    if (!(items > 0)) return;
    this.stats.totals(signal).accepted += items;
    this.add('accepted', signal, items);
    if (atLeast(this.level, 'detailed')) this.recordBatch(signal, items);
  }

  refused(signal: Signal, items: number): void {
    if (!(items > 0)) return;
    this.stats.totals(signal).refused += items;
    this.add('refused', signal, items);
  }

  sent(signal: Signal, items: number): void {
    if (!(items > 0)) return;
    this.stats.totals(signal).sent += items;
    this.add('sent', signal, items);
  }

  failed(signal: Signal, items: number): void {
    if (!(items > 0)) return;
    this.stats.totals(signal).failed += items;
    this.add('failed', signal, items);
  }

  dropped(signal: Signal, items: number, reason: string): void {
    if (!(items > 0)) return;
    this.stats.addDropped(signal, items, reason);
    if (!this.instruments) return;
    let slot = this.droppedSlots[signal];
    if (!slot) {
      const { name, description } = counterName(this.kind, 'dropped', signal);
      slot = { counter: this.instruments.counter(name, description), byReason: new Map() };
      this.droppedSlots[signal] = slot;
    }
    let attributes = slot.byReason.get(reason);
    if (!attributes) {
      attributes = { ...this.base, reason };
      slot.byReason.set(reason, attributes);
    }
    slot.counter.add(items, attributes);
  }

  observeGauge(name: string, description: string, read: () => number): void {
    if (!this.instruments || !atLeast(this.level, 'normal')) return;
    this.instruments.gauge(customName(name), description, this.base, read);
  }

  count(name: string, value: number, attributes?: Record<string, string>): void {
    if (!this.instruments || !(value > 0)) return;
    const counter = this.instruments.counter(customName(name), `${name} (component-specific)`);
    counter.add(value, attributes ? { ...attributes, ...this.base } : this.base);
  }

  private add(event: Exclude<CountEvent, 'dropped'>, signal: Signal, items: number): void {
    if (!this.instruments) return;
    const bySignal = (this.slots[event] ??= {});
    let slot = bySignal[signal];
    if (!slot) {
      slot = this.resolve(event, signal, this.instruments);
      bySignal[signal] = slot;
    }
    slot.counter.add(items, slot.attributes);
  }

  private resolve(event: CountEvent, signal: Signal, instruments: InstrumentSource): Slot {
    const { name, description, signalAttribute } = counterName(this.kind, event, signal);
    const attributes = signalAttribute ? { ...this.base, 'otel.signal': signal } : this.base;
    return { counter: instruments.counter(name, description), attributes };
  }

  private recordBatch(signal: Signal, items: number): void {
    if (!this.instruments) return;
    let slot = this.batchSizes[signal];
    if (!slot) {
      const histogram = this.instruments.histogram(`${PREFIX}${this.kind}_batch_size`, 'Items per batch a component took in.');
      slot = { histogram, attributes: { ...this.base, 'otel.signal': signal } };
      this.batchSizes[signal] = slot;
    }
    slot.histogram.record(items, slot.attributes);
  }

  /** For messages: which component these counts belong to. */
  toString(): string {
    return `${this.kind} ${this.id}`;
  }
}
