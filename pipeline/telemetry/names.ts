// Sonde's self-metric names: the OpenTelemetry Collector's `otelcol_*` names with a `sonde_`
// prefix, so dashboards and alerts written for the Collector carry over by changing the prefix.
//
// Which metric exists at which `service.telemetry.metrics.level`:
//
//   none      nothing is exported and no port is opened; SelfTelemetry.snapshot() still counts
//             (zpages needs it).
//   basic     the standard component counts (the Collector's "basic" set):
//               sonde_receiver_accepted_<items>       {receiver}
//               sonde_receiver_refused_<items>        {receiver}   refused by the pipeline (back-pressure)
//               sonde_receiver_failed_<items>         {receiver}   failed for another reason
//               sonde_processor_incoming_items        {processor, otel.signal}
//               sonde_processor_outgoing_items        {processor, otel.signal}
//               sonde_processor_refused_<items>       {processor}
//               sonde_processor_failed_<items>        {processor}
//               sonde_exporter_sent_<items>           {exporter}
//               sonde_exporter_send_failed_<items>    {exporter}
//               sonde_exporter_enqueue_failed_<items> {exporter}   refused: the sending queue is full
//               sonde_<kind>_dropped_<items>          {<kind>, reason}   for every kind
//               sonde_<kind>_<event>_<items>          {<kind>}   any other kind/event pair (connectors)
//               sonde_<name>                          {<kind>, ...attributes}  ComponentTelemetry.count()
//   normal    + sonde_<name> gauges from ComponentTelemetry.observeGauge() {<kind>} (queue sizes)
//             + sonde_process_uptime, sonde_process_cpu_seconds (counters, seconds),
//               sonde_process_memory_rss, sonde_process_runtime_heap_alloc_bytes (gauges, bytes)
//   detailed  + sonde_<kind>_batch_size {<kind>, otel.signal}: a histogram of items per batch
//
// <items> is spans, metric_points or log_records. Prometheus shows counters with a `_total`
// suffix (sonde_receiver_accepted_spans_total), as the Collector's Prometheus endpoint does.
import type { Kind } from '../component';
import type { TelemetryLevel } from '../config/types';
import type { Signal } from '../pdata';

export const PREFIX = 'sonde_';

export type CountEvent = 'accepted' | 'refused' | 'failed' | 'sent' | 'dropped';

export const ITEMS: Readonly<Record<Signal, string>> = {
  traces: 'spans',
  metrics: 'metric_points',
  logs: 'log_records',
};

const LEVEL_RANK: Readonly<Record<TelemetryLevel, number>> = { none: 0, basic: 1, normal: 2, detailed: 3 };

/** True when metrics of `needed` level are emitted at the configured `level`. */
export function atLeast(level: TelemetryLevel, needed: TelemetryLevel): boolean {
  return LEVEL_RANK[level] >= LEVEL_RANK[needed];
}

export interface CounterName {
  name: string;
  description: string;
  /** Processor items counters carry the signal as an attribute rather than in the name. */
  signalAttribute: boolean;
}

// The Collector's own verbs where it has one; `<kind>_<event>_<items>` otherwise.
const COLLECTOR_VERBS: Partial<Record<Kind, Partial<Record<CountEvent, string>>>> = {
  exporter: { sent: 'sent', failed: 'send_failed', refused: 'enqueue_failed' },
};

const DESCRIPTIONS: Readonly<Record<CountEvent, string>> = {
  accepted: 'Number of {items} successfully pushed into the pipeline.',
  refused: 'Number of {items} refused (back-pressure: memory limit, full queue).',
  failed: 'Number of {items} that failed for a reason other than back-pressure.',
  sent: 'Number of {items} successfully sent on.',
  dropped: 'Number of {items} dropped, by reason.',
};

/** The counter a component's standard event is recorded on. */
export function counterName(kind: Kind, event: CountEvent, signal: Signal): CounterName {
  const items = ITEMS[signal];
  if (kind === 'processor' && (event === 'accepted' || event === 'sent')) {
    const name = event === 'accepted' ? 'processor_incoming_items' : 'processor_outgoing_items';
    const description = event === 'accepted' ? 'Number of items passed to the processor.' : 'Number of items emitted from the processor.';
    return { name: PREFIX + name, description, signalAttribute: true };
  }
  const verb = COLLECTOR_VERBS[kind]?.[event] ?? event;
  return {
    name: `${PREFIX}${kind}_${verb}_${items}`,
    description: DESCRIPTIONS[event].replace('{items}', items.replace('_', ' ')),
    signalAttribute: false,
  };
}

/** `sonde_` + a component-chosen name, kept to the characters every backend accepts. */
export function customName(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_.]/g, '_');
  return clean.startsWith(PREFIX) ? clean : PREFIX + clean;
}
