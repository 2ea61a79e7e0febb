// The pull exporter's page, exactly: text format 0.0.4 and OpenMetrics lines, escaping,
// timestamps, staleness and expiry (on an injected clock), and the drops it counts.
import * as assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import Long from 'long';
import { prometheusExporterFactory } from '../../exporters/prometheus';
import { PrometheusExporter } from '../../exporters/prometheus/server';
import type { PrometheusExporterConfig } from '../../exporters/prometheus/config';
import type { ExporterFactory } from '../../pipeline/component';
import { readConfig } from '../../pipeline/config/schema';
import { AggregationTemporality, nanosFromMillis, type KeyValue, type Metric, type MetricsData } from '../../pipeline/pdata';
import { RecordingTelemetry, testSettings } from '../helpers/component-harness';

const T = 1_700_000_000_123;

function str(key: string, value: string): KeyValue {
  return { key, value: { stringValue: value } };
}

function batch(metrics: Metric[]): MetricsData {
  return { resourceMetrics: [{ resource: { attributes: [str('service.name', 'svc'), str('host.name', 'h')] }, scopeMetrics: [{ scope: { name: 'sc', attributes: [] }, metrics }] }] };
}

function make(config: Record<string, unknown>, clock: { now: number }): { e: PrometheusExporter; tel: RecordingTelemetry } {
  const f = prometheusExporterFactory as ExporterFactory;
  const { value, issues } = readConfig(f.config, { endpoint: '127.0.0.1:0', ...config });
  assert.deepEqual([...issues.filter((i) => i.severity === 'error'), ...(f.validate?.(value) ?? [])], []);
  const tel = new RecordingTelemetry();
  // What the factory builds, with the test's clock.
  return { e: new PrometheusExporter(testSettings(tel, 'prometheus', 'exporter'), value as PrometheusExporterConfig, () => clock.now), tel };
}

const counter = (v: number, attrs: KeyValue[] = [], flags = 0): Metric => ({
  name: 'http.requests', unit: '{request}', description: 'All "requests"\\ served\nsince start',
  sum: { isMonotonic: true, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ attributes: attrs, timeUnixNano: nanosFromMillis(T), asInt: Long.fromNumber(v), exemplars: [], flags }] },
});
const hist: Metric = { name: 'lat', unit: 's', histogram: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ attributes: [], timeUnixNano: nanosFromMillis(T), count: 3, sum: 0.5, bucketCounts: [1, 2], explicitBounds: [0.25], exemplars: [] }] } };

describe('prometheus exporter page', () => {
  it('text format 0.0.4: families in name order, HELP/TYPE, escaped label values, classic buckets', () => {
    const { e } = make({}, { now: T });
    e.consume(batch([counter(5, [str('path', 'a"b\\c\nd')]), hist]));
    assert.equal(e.render(false), [
      '# HELP http_requests_total All "requests"\\\\ served\\nsince start',
      '# TYPE http_requests_total counter',
      'http_requests_total{job="svc",otel_scope_name="sc",path="a\\"b\\\\c\\nd"} 5',
      '# TYPE lat_seconds histogram',
      'lat_seconds_bucket{job="svc",le="0.25",otel_scope_name="sc"} 1',
      'lat_seconds_bucket{job="svc",le="+Inf",otel_scope_name="sc"} 3',
      'lat_seconds_sum{job="svc",otel_scope_name="sc"} 0.5',
      'lat_seconds_count{job="svc",otel_scope_name="sc"} 3',
      '# HELP target_info Target metadata',
      '# TYPE target_info gauge',
      'target_info{host_name="h",job="svc"} 1',
      '',
    ].join('\n'));
  });

  it('OpenMetrics: counter and info families named without their suffix, seconds timestamps, # EOF', () => {
    const { e } = make({ send_timestamps: true }, { now: T });
    e.consume(batch([counter(5)]));
    assert.equal(e.render(true), [
      '# HELP http_requests All \\"requests\\"\\\\ served\\nsince start',
      '# TYPE http_requests counter',
      'http_requests_total{job="svc",otel_scope_name="sc"} 5 1700000000.123',
      '# HELP target Target metadata',
      '# TYPE target info',
      'target_info{host_name="h",job="svc"} 1 1700000000.123',
      '# EOF',
      '',
    ].join('\n'));
    assert.match(e.render(false), /^http_requests_total\{job="svc",otel_scope_name="sc"\} 5 1700000000123$/m);
  });

  it('a NoRecordedValue point removes its series; idle series expire after metric_expiration', () => {
    const clock = { now: T };
    const { e } = make({ metric_expiration: '10s' }, clock);
    e.consume(batch([counter(5, [str('k', 'a')]), counter(6, [str('k', 'b')])]));
    assert.equal(e.size, 3);
    e.consume(batch([counter(0, [str('k', 'a')], 1)]));
    assert.doesNotMatch(e.render(false), /k="a"/);
    assert.match(e.render(false), /k="b",otel_scope_name="sc"\} 6/);
    clock.now += 9_000;
    e.consume(batch([counter(7, [str('k', 'b')])]));
    clock.now += 2_000;
    assert.match(e.render(false), /k="b",otel_scope_name="sc"\} 7/);
    clock.now += 9_000;
    assert.equal(e.render(false), '');
    assert.equal(e.size, 0);
  });

  it('counts what it cannot show: invalid names, one name with two types', () => {
    const { e, tel } = make({}, { now: T });
    e.consume(batch([
      { name: '(#)', unit: '', gauge: { dataPoints: [{ attributes: [], timeUnixNano: nanosFromMillis(T), asDouble: 1, exemplars: [] }] } },
      { name: 'lat', unit: 's', gauge: { dataPoints: [{ attributes: [], timeUnixNano: nanosFromMillis(T), asDouble: 1, exemplars: [] }] } },
      hist,
    ]));
    assert.deepEqual(tel.calls.filter((c) => c.what === 'dropped').map((c) => [c.reason, c.items]), [['invalid_metric_name', 1], ['family_type_conflict', 1]]);
    assert.match(e.render(false), /^lat_seconds\{job="svc",otel_scope_name="sc"\} 1$/m);
    // A point older than the one shown does not replace it.
    const older: Metric = { name: 'lat', unit: 's', gauge: { dataPoints: [{ attributes: [], timeUnixNano: nanosFromMillis(T - 1000), asDouble: 9, exemplars: [] }] } };
    e.consume(batch([older]));
    assert.match(e.render(false), /^lat_seconds\{job="svc",otel_scope_name="sc"\} 1$/m);
    assert.equal(tel.calls.filter((c) => c.reason === 'older_than_current').length, 1);
  });

  it('serves /metrics over HTTP with gzip when accepted; 404 elsewhere', async () => {
    const { e } = make({}, { now: Date.now() });
    await e.start();
    try {
      e.consume(batch([counter(5)]));
      const base = `http://127.0.0.1:${e.address()!.port}`;
      const res = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
        // fetch would gunzip on its own; read the raw bytes.
        void import('node:http').then((http) => http.get(`${base}/metrics`, { headers: { 'accept-encoding': 'gzip' } }, (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => resolve({ headers: r.headers, body: Buffer.concat(chunks) }));
        }).on('error', reject));
      });
      assert.equal(res.headers['content-encoding'], 'gzip');
      assert.match(zlib.gunzipSync(res.body).toString(), /^http_requests_total\{job="svc",otel_scope_name="sc"\} 5$/m);
      assert.equal((await fetch(`${base}/`)).status, 404);
    } finally {
      await e.shutdown();
    }
  });
});
