// The prometheus (pull) exporter in `sonde run`, scraped by a real Prometheus 2.42: values come
// back over Prometheus' API with their names and labels (text format 0.0.4, and OpenMetrics,
// which Prometheus asks for first when it is enabled); deltas add up; idle series expire from
// the page and go stale in Prometheus; odd and malformed names never break the scrape.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Long from 'long';
import { codecs } from '../../pipeline/otlp/codec';
import { AggregationTemporality, nanosFromMillis, type KeyValue, type Metric, type MetricsData } from '../../pipeline/pdata';
import { PrometheusServer, sdkSeriesSelector, type SdkPoint } from '../helpers/prometheus';
import { runOtelSender } from '../helpers/run-otel-sender';
import { freePort, startSonde, tempDir, waitFor, type SondeProcess } from '../helpers/sonde-process';

function str(key: string, value: string): KeyValue {
  return { key, value: { stringValue: value } };
}

function batch(metrics: Metric[], resource: KeyValue[] = [str('service.name', 'shop'), str('service.instance.id', 'shop-1'), str('host.name', 'node-a')]): MetricsData {
  return { resourceMetrics: [{ resource: { attributes: resource }, scopeMetrics: [{ scope: { name: 'shop.metrics', version: '1.0', attributes: [] }, metrics }] }] };
}

async function post(port: number, data: MetricsData): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from(codecs.metrics.encodeRequest(data)) });
  assert.equal(res.status, 200);
}

const at = (): Long => nanosFromMillis(Date.now());

function sondeConfig(otlpPort: number, promPort: number, extra: string): string {
  return `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:${otlpPort} }
exporters:
  prometheus:
    endpoint: 127.0.0.1:${promPort}
${extra.split('\n').filter(Boolean).map((l) => `    ${l}`).join('\n')}
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    metrics: { receivers: [otlp], exporters: [prometheus] }
`;
}

describe('prometheus exporter <- real Prometheus scrapes', function () {
  this.timeout(120_000);
  const running: { sonde?: SondeProcess; prom?: PrometheusServer }[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) {
      await r.prom?.cleanup();
      await r.sonde?.stop('SIGKILL');
    }
  });

  async function setup(extra: string, jobExtra = 'honor_labels: true'): Promise<{ otlp: number; port: number; prom: PrometheusServer; sonde: SondeProcess }> {
    const [otlp, port] = [await freePort(), await freePort()];
    const sonde = await startSonde(sondeConfig(otlp, port, extra));
    const prom = new PrometheusServer({ scrapeTargets: [`127.0.0.1:${port}`], scrapeInterval: '1s', jobExtra });
    running.push({ sonde, prom });
    await prom.start();
    // Prometheus applies scrape targets a few seconds after start: wait for the first scrape.
    await waitFor(async () => (await prom.targets()).some((t) => t.health === 'up'), 30_000, 'the first scrape');
    return { otlp, port, prom, sonde };
  }

  async function value(prom: PrometheusServer, selector: string, want: number | string): Promise<Record<string, string>> {
    let last = '';
    let metric: Record<string, string> = {};
    await waitFor(async () => {
      const r = await prom.query(selector);
      last = JSON.stringify(r.result);
      if (r.result.length !== 1) return false;
      metric = r.result[0]!.metric;
      return r.result[0]!.value![1] === String(want);
    }, 20_000, `${selector} == ${want}`).catch((e: Error) => { throw new Error(`${e.message}; last: ${last}`); });
    return metric;
  }

  for (const openMetrics of [false, true]) {
    it(`counters, gauges, histograms, summaries, target_info, const_labels (${openMetrics ? 'OpenMetrics' : 'text 0.0.4'})`, async () => {
      const { otlp, port, prom } = await setup(`const_labels: { region: eu }\nenable_open_metrics: ${openMetrics}`);
      const metrics: Metric[] = [
        { name: 'http.server.requests', unit: '{request}', description: 'Requests "served"\nper route', sum: { isMonotonic: true, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [
          { attributes: [str('http.route', '/cart'), str('note', 'a "quoted"\\ value\nline 2')], timeUnixNano: at(), asInt: Long.fromNumber(42), exemplars: [] },
        ] } },
        { name: 'room.temperature', unit: 'Cel', gauge: { dataPoints: [{ attributes: [], timeUnixNano: at(), asDouble: -1.5, exemplars: [] }] } },
        { name: 'http.server.request.duration', unit: 's', histogram: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [
          { attributes: [], timeUnixNano: at(), count: 10, sum: 3.5, bucketCounts: [2, 5, 3], explicitBounds: [0.1, 1], exemplars: [] },
        ] } },
        { name: 'payload.size', unit: 'By', exponentialHistogram: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [
          { attributes: [], timeUnixNano: at(), count: 7, sum: 30, scale: 0, zeroCount: 1, positive: { offset: 0, bucketCounts: [2, 0, 4] }, exemplars: [] },
        ] } },
        { name: 'rpc.latency', unit: 'ms', summary: { dataPoints: [{ attributes: [], timeUnixNano: at(), count: 4, sum: 100, quantileValues: [{ quantile: 0.5, value: 20 }, { quantile: 0.99, value: 60 }] }] } },
      ];
      await post(otlp, batch(metrics));
      const common = { job: 'shop', instance: 'shop-1', otel_scope_name: 'shop.metrics', otel_scope_version: '1.0', region: 'eu' };
      const m = await value(prom, 'http_server_requests_total', 42);
      assert.deepEqual(m, { __name__: 'http_server_requests_total', ...common, http_route: '/cart', note: 'a "quoted"\\ value\nline 2' });
      await value(prom, 'room_temperature_celsius', -1.5);
      await value(prom, 'http_server_request_duration_seconds_bucket{le="0.1"}', 2);
      await value(prom, 'http_server_request_duration_seconds_bucket{le="1"}', 7);
      await value(prom, 'http_server_request_duration_seconds_bucket{le="+Inf"}', 10);
      await value(prom, 'http_server_request_duration_seconds_sum', 3.5);
      await value(prom, 'http_server_request_duration_seconds_count', 10);
      // Exponential buckets as classic ones: le at each populated bucket's upper boundary.
      await value(prom, 'payload_size_bytes_bucket{le="0"}', 1);
      await value(prom, 'payload_size_bytes_bucket{le="2"}', 3);
      await value(prom, 'payload_size_bytes_bucket{le="8"}', 7);
      await value(prom, 'payload_size_bytes_count', 7);
      await value(prom, 'rpc_latency_milliseconds{quantile="0.99"}', 60);
      await value(prom, 'rpc_latency_milliseconds_count', 4);
      const info = await value(prom, 'target_info', 1);
      assert.deepEqual(info, { __name__: 'target_info', job: 'shop', instance: 'shop-1', host_name: 'node-a', region: 'eu' });
      const [target] = await prom.targets();
      assert.equal(target!.health, 'up', target!.lastError);

      const page = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' } });
      const text = await page.text();
      if (openMetrics) {
        assert.match(page.headers.get('content-type')!, /^application\/openmetrics-text; version=1\.0\.0/);
        assert.match(text, /^# TYPE http_server_requests counter$/m);
        assert.match(text, /^# TYPE target info$/m);
        assert.match(text, /# EOF\n$/);
      } else {
        assert.match(page.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
        assert.match(text, /^# HELP http_server_requests_total Requests "served"\\nper route$/m);
        assert.match(text, /^# TYPE http_server_requests_total counter$/m);
        assert.doesNotMatch(text, /# EOF/);
      }
    });
  }

  it('deltas add up to cumulative values; series expire after metric_expiration and go stale in Prometheus', async () => {
    const { otlp, port, prom } = await setup('metric_expiration: 3s');
    const delta = (v: number, start: number, end: number, name = 'jobs.done'): Metric => ({ name, unit: '', sum: { isMonotonic: true, aggregationTemporality: AggregationTemporality.DELTA, dataPoints: [
      { attributes: [], startTimeUnixNano: nanosFromMillis(start), timeUnixNano: nanosFromMillis(end), asInt: Long.fromNumber(v), exemplars: [] },
    ] } });
    const t = Date.now() - 10_000;
    for (const [i, v] of [1, 2, 3].entries()) await post(otlp, batch([delta(v, t + i * 1000, t + (i + 1) * 1000)]));
    await value(prom, 'jobs_done_total', 6);
    // A second series kept alive while the first goes idle.
    const keepAlive = setInterval(() => { void post(otlp, batch([{ name: 'alive', unit: '', gauge: { dataPoints: [{ attributes: [], timeUnixNano: at(), asInt: Long.fromNumber(1), exemplars: [] }] } }])); }, 500);
    try {
      await waitFor(async () => !(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).includes('jobs_done_total'), 15_000, 'jobs_done_total expired from /metrics');
      await waitFor(async () => (await prom.query('jobs_done_total')).result.length === 0, 15_000, 'jobs_done_total stale in prometheus');
      const page = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(page, /^alive\{/m);
    } finally {
      clearInterval(keepAlive);
    }
  });

  it('OTel SDK (a cumulative and a delta resource) -> sonde run -> /metrics -> Prometheus: every point\'s value', async () => {
    const { otlp, prom } = await setup('');
    const file = path.join(tempDir(), 'expected.json');
    await runOtelSender({ SIGNAL: 'metrics', PROTOCOL: 'http/protobuf', ENDPOINT: `http://127.0.0.1:${otlp}`, COUNT: '200', EXPECTED_OUT: file });
    const points = JSON.parse(fs.readFileSync(file, 'utf8')) as SdkPoint[];
    assert.ok(points.some((p) => p.temporality === 1), 'the SDK sent delta points');
    for (const p of points) {
      if (p.type === 'sum' || p.type === 'gauge') {
        await value(prom, sdkSeriesSelector(p), p.value as number);
      } else if (p.type === 'histogram') {
        const v = p.value as { bounds: number[]; counts: number[]; count: number };
        let cumulative = 0;
        for (let i = 0; i < v.counts.length; i++) {
          cumulative += v.counts[i]!;
          await value(prom, sdkSeriesSelector(p, '_bucket', `le="${i < v.bounds.length ? String(v.bounds[i]) : '+Inf'}"`), cumulative);
        }
        await value(prom, sdkSeriesSelector(p, '_count'), v.count);
      } else {
        const v = p.value as { count: number };
        await value(prom, sdkSeriesSelector(p, '_count'), v.count);
        await value(prom, sdkSeriesSelector(p, '_bucket', 'le="+Inf"'), v.count);
      }
    }
  });

  it('odd and malformed names: sanitized or dropped, and the scrape stays healthy', async () => {
    const { otlp, port, prom, sonde } = await setup('');
    const g = (name: string, attrs: KeyValue[] = [], v = 1, unit = ''): Metric => ({ name, unit, gauge: { dataPoints: [{ attributes: attrs, timeUnixNano: at(), asDouble: v, exemplars: [] }] } });
    await post(otlp, batch([
      g('température.salle', [], 19.5, 'Cel'),
      g('5xx.responses', [str('__name__', 'evil'), str('2nd', 'x'), str('le', 'label-named-le')], 3),
      g('(#)', [], 4),
      g('', [], 5),
      g('emoji.😀.count', [str('k.😀', 'v😀')], 6),
      g('conflict', [], 7),
      { name: 'conflict', unit: '', histogram: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ attributes: [], timeUnixNano: at(), count: 1, sum: 1, bucketCounts: [1], explicitBounds: [], exemplars: [] }] } },
    ]));
    await value(prom, 'temp_rature_salle_celsius', 19.5);
    const m = await value(prom, '_5xx_responses', 3);
    assert.equal(m['key__name__'], 'evil');
    assert.equal(m['key_2nd'], 'x');
    assert.equal(m['le'], 'label-named-le');
    const e = await value(prom, 'emoji_count', 6);
    assert.equal(e['k__'], 'v😀', JSON.stringify(e));
    await value(prom, 'conflict', 7);
    const [target] = await prom.targets();
    assert.equal(target!.health, 'up', target!.lastError);
    const page = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.doesNotMatch(page, /conflict_bucket/);
    assert.equal(sonde.stderr().includes('level=error'), false);
    // Anything but /metrics is a 404, and only GET/HEAD are served.
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST', body: 'x' })).status, 405);
  });
});
