// Joins pipelines of one signal: what arrives as an exporter goes on, untouched, to the
// pipelines that use the connector as a receiver. Their result is the caller's result.
import type { Component, Host, SignalConsumers } from '../../pipeline/component';
import type { Signal } from '../../pipeline/pdata';

export class ForwardConnector implements Component {
  readonly consumers: SignalConsumers = {};

  constructor(from: readonly Signal[], next: SignalConsumers) {
    for (const signal of from) {
      const target = next[signal];
      // The engine only asks for pairs the factory declares (same signal in and out).
      if (!target) throw new Error(`forward: no ${signal} pipeline to forward to`);
      // A pipeline behind us that changes data in place makes us a mutating consumer, so the
      // fan-out in front of us hands us a copy.
      const consumer = { consume: (data: never) => target.consume(data), mutatesData: target.mutatesData === true };
      (this.consumers as Record<Signal, unknown>)[signal] = consumer;
    }
  }

  async start(_host: Host): Promise<void> {}
  async shutdown(): Promise<void> {}
}
