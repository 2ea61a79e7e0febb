// SelfTelemetry against the real OpenTelemetry JS SDK: counts go in through ComponentTelemetry,
// come out of the SDK-served Prometheus endpoint, scraped over HTTP and parsed.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import type { TelemetryConfig, TelemetryLevel } from '../../pipeline/config/types';
import { silentLogger } from '../../pipeline/logger';
import { SelfTelemetry, counterName, parseHostPort } from '../../pipeline/telemetry';

const BUILD = { command: 'sonde', version: '0.0.0-test' };

function telemetryConfig(level: TelemetryLevel, prometheus = '127.0.0.1:0'): TelemetryConfig {
  return { metrics: { level, prometheus }, logs: { level: 'info' }, resource: {} };
}

interface Sample { name: string; labels: Record<string, string>; value: number }

/** Parses Prometheus text exposition lines (`name{a="b",...} value`). */
function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    assert.ok(m, `unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  const hit = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return hit?.value;
}

async function scrape(t: SelfTelemetry): Promise<{ text: string; samples: Sample[] }> {
  const addr = t.prometheusAddress();
  assert.ok(addr, 'endpoint bound');
  const res = await fetch(`http://127.0.0.1:${addr.port}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  return { text, samples: parseExposition(text) };
}

describe('telemetry: metric names', () => {
  it('mirrors the Collector names with the sonde_ prefix', () => {
    assert.equal(counterName('receiver', 'accepted', 'traces').name, 'sonde_receiver_accepted_spans');
    assert.equal(counterName('receiver', 'refused', 'metrics').name, 'sonde_receiver_refused_metric_points');
    assert.equal(counterName('receiver', 'failed', 'logs').name, 'sonde_receiver_failed_log_records');
    assert.equal(counterName('exporter', 'sent', 'traces').name, 'sonde_exporter_sent_spans');
    assert.equal(counterName('exporter', 'failed', 'traces').name, 'sonde_exporter_send_failed_spans');
    assert.equal(counterName('exporter', 'refused', 'logs').name, 'sonde_exporter_enqueue_failed_log_records');
    assert.equal(counterName('processor', 'accepted', 'logs').name, 'sonde_processor_incoming_items');
    assert.equal(counterName('processor', 'sent', 'logs').name, 'sonde_processor_outgoing_items');
    assert.equal(counterName('processor', 'dropped', 'metrics').name, 'sonde_processor_dropped_metric_points');
    assert.equal(counterName('connector', 'accepted', 'traces').name, 'sonde_connector_accepted_spans');
  });

  it('reads host:port endpoints', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:8888'), { host: '127.0.0.1', port: 8888 });
    assert.deepEqual(parseHostPort('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseHostPort(':13133'), { host: '', port: 13133 });
    assert.equal(parseHostPort('localhost'), undefined);
    assert.equal(parseHostPort('a:70000'), undefined);
  });
});

describe('telemetry: SelfTelemetry', () => {
  const started: SelfTelemetry[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((t) => t.shutdown()));
  });
  function make(level: TelemetryLevel, prometheus?: string): SelfTelemetry {
    const t = new SelfTelemetry(telemetryConfig(level, prometheus), silentLogger, BUILD);
    started.push(t);
    return t;
  }

  it('serves the counted values on a Prometheus endpoint (level basic)', async () => {
    const t = make('basic');
    await t.start();
    const rx = t.forComponent('otlp', 'receiver');
    const proc = t.forComponent('batch', 'processor');
    const ex = t.forComponent('otlp_http/tempo', 'exporter');
    rx.accepted('traces', 100);
    rx.accepted('traces', 23);
    rx.refused('traces', 7);
    rx.accepted('metrics', 5);
    proc.accepted('traces', 123);
    proc.sent('traces', 120);
    proc.dropped('traces', 3, 'sampled_out');
    ex.sent('traces', 110);
    ex.failed('traces', 10);
    ex.dropped('traces', 4, 'queue_full');
    ex.dropped('traces', 1, 'queue_full');
    ex.count('lost_records', 9, { cpu: '1' });
    ex.observeGauge('exporter_queue_size', 'Current queue size', () => 42);

    const { samples } = await scrape(t);
    assert.equal(value(samples, 'sonde_receiver_accepted_spans_total', { receiver: 'otlp' }), 123);
    assert.equal(value(samples, 'sonde_receiver_refused_spans_total', { receiver: 'otlp' }), 7);
    assert.equal(value(samples, 'sonde_receiver_accepted_metric_points_total', { receiver: 'otlp' }), 5);
    assert.equal(value(samples, 'sonde_processor_incoming_items_total', { processor: 'batch', otel_signal: 'traces' }), 123);
    assert.equal(value(samples, 'sonde_processor_outgoing_items_total', { processor: 'batch', otel_signal: 'traces' }), 120);
    assert.equal(value(samples, 'sonde_processor_dropped_spans_total', { processor: 'batch', reason: 'sampled_out' }), 3);
    assert.equal(value(samples, 'sonde_exporter_sent_spans_total', { exporter: 'otlp_http/tempo' }), 110);
    assert.equal(value(samples, 'sonde_exporter_send_failed_spans_total', { exporter: 'otlp_http/tempo' }), 10);
    assert.equal(value(samples, 'sonde_exporter_dropped_spans_total', { exporter: 'otlp_http/tempo', reason: 'queue_full' }), 5);
    assert.equal(value(samples, 'sonde_lost_records_total', { exporter: 'otlp_http/tempo', cpu: '1' }), 9);
    // The Collector's resource labels on every series.
    assert.equal(value(samples, 'sonde_exporter_sent_spans_total', { service_name: 'sonde', service_version: '0.0.0-test' }), 110);
    // Normal-level metrics are absent at basic.
    assert.equal(samples.some((s) => s.name === 'sonde_exporter_queue_size'), false);
    assert.equal(samples.some((s) => s.name.startsWith('sonde_process_')), false);

    // Counts after a scrape show in the next one (cumulative).
    rx.accepted('traces', 1000);
    const again = await scrape(t);
    assert.equal(value(again.samples, 'sonde_receiver_accepted_spans_total', { receiver: 'otlp' }), 1123);
  });

  it('adds queue gauges and process metrics at level normal', async () => {
    const t = make('normal');
    let queue = 17;
    t.forComponent('otlp', 'exporter').observeGauge('exporter_queue_size', 'Current queue size', () => queue);
    t.forComponent('kafka', 'exporter').observeGauge('exporter_queue_size', 'Current queue size', () => { throw new Error('broken'); });
    await t.start();
    let { samples } = await scrape(t);
    assert.equal(value(samples, 'sonde_exporter_queue_size', { exporter: 'otlp' }), 17);
    queue = 3;
    ({ samples } = await scrape(t));
    assert.equal(value(samples, 'sonde_exporter_queue_size', { exporter: 'otlp' }), 3);
    const rss = value(samples, 'sonde_process_memory_rss', {});
    assert.ok(rss !== undefined && rss > 1e6, `rss ${rss}`);
    const heap = value(samples, 'sonde_process_runtime_heap_alloc_bytes', {});
    assert.ok(heap !== undefined && heap > 0);
    const cpu = value(samples, 'sonde_process_cpu_seconds_total', {});
    assert.ok(cpu !== undefined && cpu > 0);
    const uptime = value(samples, 'sonde_process_uptime_total', {});
    assert.ok(uptime !== undefined && uptime > 0);
    assert.equal(samples.some((s) => s.name.startsWith('sonde_receiver_batch_size')), false);
  });

  it('adds the batch-size histogram at level detailed', async () => {
    const t = make('detailed');
    await t.start();
    const rx = t.forComponent('ebpf_http', 'receiver');
    rx.accepted('traces', 5);
    rx.accepted('traces', 500);
    const { samples } = await scrape(t);
    assert.equal(value(samples, 'sonde_receiver_batch_size_count', { receiver: 'ebpf_http', otel_signal: 'traces' }), 2);
    assert.equal(value(samples, 'sonde_receiver_batch_size_sum', { receiver: 'ebpf_http', otel_signal: 'traces' }), 505);
    assert.equal(value(samples, 'sonde_receiver_batch_size_bucket', { receiver: 'ebpf_http', le: '8' }), 1);
  });

  it('keeps in-memory totals for zpages', () => {
    const t = make('basic');
    const rx = t.forComponent('otlp', 'receiver');
    rx.accepted('logs', 10);
    rx.accepted('logs', 0); // nothing to count
    rx.refused('logs', 2);
    rx.dropped('logs', 3, 'bad_record');
    t.forComponent('otlp', 'receiver').failed('logs', 1); // same component asked twice: one set of totals
    t.forComponent('otlp', 'exporter').sent('traces', 4);
    const snap = t.snapshot();
    assert.deepEqual(snap, [
      { id: 'otlp', kind: 'receiver', signals: { logs: { accepted: 10, refused: 2, sent: 0, failed: 1, dropped: { bad_record: 3 } } } },
      { id: 'otlp', kind: 'exporter', signals: { traces: { accepted: 0, refused: 0, sent: 4, failed: 0, dropped: {} } } },
    ]);
    snap[0]!.signals.logs!.accepted = 999; // a copy: the live totals do not change
    assert.equal(t.snapshot()[0]!.signals.logs!.accepted, 10);
  });

  it('opens no port and keeps totals at level none', async () => {
    const t = make('none');
    await t.start();
    assert.equal(t.prometheusAddress(), undefined);
    const rx = t.forComponent('otlp', 'receiver');
    rx.accepted('traces', 8);
    rx.observeGauge('x', 'y', () => 1);
    rx.count('lost_records', 1);
    assert.equal(t.snapshot()[0]!.signals.traces!.accepted, 8);
  });

  it('opens no port when the prometheus endpoint is empty', async () => {
    const t = make('normal', '');
    await t.start();
    assert.equal(t.prometheusAddress(), undefined);
  });

  it('fails start with the address when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const t = make('basic', `127.0.0.1:${port}`);
      await assert.rejects(t.start(), (err: Error) => {
        assert.equal(err.message, `service::telemetry::metrics: listen 127.0.0.1:${port}: EADDRINUSE (address already in use)`);
        return true;
      });
      await t.shutdown();
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('rejects an endpoint that is not host:port', async () => {
    const t = make('basic', 'localhost');
    await assert.rejects(t.start(), /service::telemetry::metrics: endpoint "localhost": expected host:port/);
  });

  it('shuts down twice, and without start', async () => {
    const never = make('normal');
    await never.shutdown();
    await never.shutdown();
    const t = make('basic');
    await t.start();
    const addr = t.prometheusAddress()!;
    await t.shutdown();
    await t.shutdown();
    await assert.rejects(fetch(`http://127.0.0.1:${addr.port}/metrics`));
  });

  it('answers 404 off the metrics path', async () => {
    const t = make('basic');
    await t.start();
    const res = await fetch(`http://127.0.0.1:${t.prometheusAddress()!.port}/other`);
    assert.equal(res.status, 404);
    await res.text();
  });
});
