// Remote-write encoding checked by an independent decoder (protobufjs reading the schema text
// below, written from Prometheus' prompb field numbers), the split by size, staleness markers,
// delta -> cumulative, and the exporter's HTTP behaviour against a local server that records
// what it gets (headers, snappy bodies) and answers as told.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as protobuf from 'protobufjs';
import { uncompressSync } from 'snappy';
import Long from 'long';
import { prometheusRemoteWriteExporterFactory } from '../../exporters/prometheusremotewrite';
import type { Component, ExporterFactory, SignalConsumers } from '../../pipeline/component';
import { readConfig } from '../../pipeline/config/schema';
import { AggregationTemporality, nanosFromMillis, type Metric, type MetricsData } from '../../pipeline/pdata';
import { CumulativeTracker } from '../../pipeline/prometheus/cumulative';
import { isStaleNaN, type ExpValue } from '../../pipeline/prometheus/model';
import { encodeWriteRequest, ResetHint, splitWriteRequests, type TimeSeries } from '../../pipeline/prometheus/remote-write-proto';
import { toTimeSeries } from '../../pipeline/prometheus/remote-write';
import { expToClassic, spansAndDeltas } from '../../pipeline/prometheus/series';
import { translate, type TranslateOptions } from '../../pipeline/prometheus/translate';
import { RecordingTelemetry, testHost, testSettings } from '../helpers/component-harness';

const PROTO = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
message MetricMetadata { int32 type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
message Sample { double value = 1; int64 timestamp = 2; }
message Exemplar { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
message Histogram {
  oneof count { uint64 count_int = 1; double count_float = 2; }
  double sum = 3; sint32 schema = 4; double zero_threshold = 5;
  oneof zero_count { uint64 zero_count_int = 6; double zero_count_float = 7; }
  repeated BucketSpan negative_spans = 8; repeated sint64 negative_deltas = 9; repeated double negative_counts = 10;
  repeated BucketSpan positive_spans = 11; repeated sint64 positive_deltas = 12; repeated double positive_counts = 13;
  int32 reset_hint = 14; int64 timestamp = 15;
}
message BucketSpan { sint32 offset = 1; uint32 length = 2; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
message Label { string name = 1; string value = 2; }
`;
const WriteRequest = protobuf.parse(PROTO).root.lookupType('prometheus.WriteRequest');

interface Decoded {
  timeseries: { labels: { name: string; value: string }[]; samples: { value: number; timestamp: number }[]; exemplars: unknown[]; histograms: Record<string, unknown>[] }[];
  metadata: { type: number; metricFamilyName: string; help: string; unit: string }[];
}

function decode(buf: Uint8Array): Decoded {
  return WriteRequest.toObject(WriteRequest.decode(buf), { longs: Number, defaults: true, arrays: true }) as Decoded;
}

const T0 = 1_700_000_000_000;
const OPTS: TranslateOptions = { namespace: '', addMetricSuffixes: true, resourceToTelemetry: false, targetInfo: false, extraLabels: [] };

function batch(metrics: Metric[]): MetricsData {
  return { resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] }, scopeMetrics: [{ scope: { name: 's', attributes: [] }, metrics }] }] };
}

function deltaSum(value: number, atMs: number, startMs: number): Metric {
  return { name: 'jobs.done', unit: '', sum: { isMonotonic: true, aggregationTemporality: AggregationTemporality.DELTA, dataPoints: [{ attributes: [], startTimeUnixNano: nanosFromMillis(startMs), timeUnixNano: nanosFromMillis(atMs), asInt: Long.fromNumber(value), exemplars: [] }] } };
}

describe('remote-write encoding (decoded by protobufjs from the prompb schema)', () => {
  it('labels, samples, negative and large timestamps, a native histogram, metadata', () => {
    const ts: TimeSeries[] = [
      { labels: [{ name: '__name__', value: 'up' }, { name: 'job', value: 'ünï "x"' }], samples: [{ value: 1.5, timestamp: T0 }, { value: 0, timestamp: T0 + 1 }, { value: -2, timestamp: -5 }], exemplars: [{ labels: [{ name: 'trace_id', value: 'ab' }], value: 0.25, timestamp: T0 - 1 }], histograms: [] },
      {
        labels: [{ name: '__name__', value: 'lat' }], samples: [], exemplars: [],
        histograms: [{
          count: 2 ** 40, sum: 12.5, schema: -3, zeroThreshold: 1e-128, zeroCount: 7, negativeSpans: [{ offset: -2, length: 1 }], negativeDeltas: [4],
          positiveSpans: [{ offset: 3, length: 2 }, { offset: 5, length: 1 }], positiveDeltas: [1, -1, 9], resetHint: ResetHint.NO, timestamp: T0,
        }],
      },
    ];
    const buf = encodeWriteRequest({ timeseries: ts, metadata: [{ type: 1, metricFamilyName: 'up', help: 'Up.', unit: 'seconds' }] });
    const d = decode(buf);
    assert.deepEqual(d.timeseries[0]!.labels, ts[0]!.labels);
    assert.deepEqual(d.timeseries[0]!.samples, [{ value: 1.5, timestamp: T0 }, { value: 0, timestamp: T0 + 1 }, { value: -2, timestamp: -5 }]);
    assert.deepEqual(d.timeseries[0]!.exemplars, [{ labels: [{ name: 'trace_id', value: 'ab' }], value: 0.25, timestamp: T0 - 1 }]);
    const h = d.timeseries[1]!.histograms[0]!;
    assert.equal(h['countInt'], 2 ** 40);
    assert.equal(h['sum'], 12.5);
    assert.equal(h['schema'], -3);
    assert.equal(h['zeroThreshold'], 1e-128);
    assert.equal(h['zeroCountInt'], 7);
    assert.deepEqual(h['negativeSpans'], [{ offset: -2, length: 1 }]);
    assert.deepEqual(h['negativeDeltas'], [4]);
    assert.deepEqual(h['positiveSpans'], [{ offset: 3, length: 2 }, { offset: 5, length: 1 }]);
    assert.deepEqual(h['positiveDeltas'], [1, -1, 9]);
    assert.equal(h['resetHint'], 2);
    assert.equal(h['timestamp'], T0);
    assert.deepEqual(d.metadata, [{ type: 1, metricFamilyName: 'up', help: 'Up.', unit: 'seconds' }]);
  });

  it('split by size: every request within max_batch_size_bytes, every series once, in order', () => {
    const ts: TimeSeries[] = Array.from({ length: 500 }, (_, i) => ({
      labels: [{ name: '__name__', value: 'm' }, { name: 'i', value: String(i).repeat(1 + (i % 7)) }], samples: [{ value: i, timestamp: T0 + i }], exemplars: [], histograms: [],
    }));
    const max = 1000;
    const reqs = splitWriteRequests(ts, [{ type: 2, metricFamilyName: 'm', help: '', unit: '' }], max);
    assert.ok(reqs.length > 10);
    const seen: string[] = [];
    for (const r of reqs) {
      const buf = encodeWriteRequest(r);
      assert.ok(buf.length <= max, `${buf.length} <= ${max}`);
      for (const t of decode(buf).timeseries) seen.push(t.labels[1]!.value);
    }
    assert.deepEqual(seen, ts.map((t) => t.labels[1]!.value));
    assert.equal(reqs.at(-1)!.metadata.length, 1);
    // A series bigger than the limit still goes, alone.
    const big: TimeSeries = { labels: [{ name: '__name__', value: 'x'.repeat(5000) }], samples: [{ value: 1, timestamp: 1 }], exemplars: [], histograms: [] };
    assert.deepEqual(splitWriteRequests([ts[0]!, big, ts[1]!], [], max).map((r) => r.timeseries.length), [1, 1, 1]);
  });
});

describe('remote-write translation', () => {
  it('staleness: NoRecordedValue points carry the exact StaleNaN bits on every series', () => {
    const h: Metric = { name: 'lat', unit: 's', histogram: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ attributes: [], timeUnixNano: nanosFromMillis(T0), count: 0, sum: 0, bucketCounts: [0, 0], explicitBounds: [1], exemplars: [], flags: 1 }] } };
    const g: Metric = { name: 'temp', unit: '', gauge: { dataPoints: [{ attributes: [], timeUnixNano: nanosFromMillis(T0), exemplars: [], flags: 1 }] } };
    const e: Metric = { name: 'exp', unit: '', exponentialHistogram: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ attributes: [], timeUnixNano: nanosFromMillis(T0), scale: 2, exemplars: [], flags: 1 }] } };
    const pts = translate(batch([h, g, e]), OPTS, new CumulativeTracker(0), () => assert.fail('no drop'));
    const { timeseries } = toTimeSeries(pts, { nativeHistograms: true, metadata: false });
    const buf = encodeWriteRequest({ timeseries, metadata: [] });
    // Read the doubles straight from the wire: a NaN payload must survive encoding.
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let staleOnWire = 0;
    for (let i = 0; i + 8 <= buf.length; i++) if (view.getBigUint64(i, true) === 0x7ff0000000000002n) staleOnWire++;
    // lat_bucket{le=1}, lat_bucket{le=+Inf}, lat_sum, lat_count, temp, and the native histogram's sum.
    assert.equal(staleOnWire, 6);
    const names = timeseries.map((t) => t.labels.find((l) => l.name === '__name__')!.value).sort();
    assert.deepEqual(names, ['exp', 'lat_seconds_bucket', 'lat_seconds_bucket', 'lat_seconds_count', 'lat_seconds_sum', 'temp']);
    for (const t of timeseries) for (const s of t.samples) assert.ok(isStaleNaN(s.value));
  });

  it('delta sums become cumulative (start kept); a duplicate or older delta is dropped with a reason', () => {
    const tracker = new CumulativeTracker(0);
    const drops: string[] = [];
    const values: number[] = [];
    for (const [v, at] of [[1, 10], [2, 20], [3, 30], [100, 30], [5, 25], [4, 40]] as const) {
      for (const p of translate(batch([deltaSum(v, T0 + at, T0 + at - 10)]), OPTS, tracker, (r) => drops.push(r))) {
        assert.equal(p.family.name, 'jobs_done_total');
        assert.equal(p.startMs, T0);
        values.push((p.value as { value: number }).value);
      }
    }
    assert.deepEqual(values, [1, 3, 6, 10]);
    assert.deepEqual(drops, ['delta_out_of_order', 'delta_out_of_order']);
  });

  it('delta histograms add bucket by bucket; other bounds start the series again', () => {
    const tracker = new CumulativeTracker(0);
    const hist = (at: number, counts: number[], bounds: number[]): Metric => ({
      name: 'd', unit: 'ms', histogram: { aggregationTemporality: AggregationTemporality.DELTA, dataPoints: [{ attributes: [], timeUnixNano: nanosFromMillis(T0 + at), count: counts.reduce((a, b) => a + b), sum: 10, bucketCounts: counts, explicitBounds: bounds, exemplars: [] }] },
    });
    const run = (m: Metric) => translate(batch([m]), OPTS, tracker, (r) => assert.fail(`no drop: ${r}`))[0]!.value;
    run(hist(1, [1, 2, 3], [1, 2]));
    assert.deepEqual(run(hist(2, [1, 0, 1], [1, 2])), { kind: 'histogram', bounds: [1, 2], counts: [2, 2, 4], count: 8, sum: 20 });
    assert.deepEqual(run(hist(3, [5, 5], [7])), { kind: 'histogram', bounds: [7], counts: [5, 5], count: 10, sum: 10 });
  });

  it('delta exponential histograms of different scales merge at the coarser scale', () => {
    const tracker = new CumulativeTracker(0);
    const exp = (at: number, scale: number, offset: number, counts: number[]): Metric => ({
      name: 'e', unit: '', exponentialHistogram: { aggregationTemporality: AggregationTemporality.DELTA, dataPoints: [{ attributes: [], timeUnixNano: nanosFromMillis(T0 + at), count: counts.reduce((a, b) => a + b), sum: 1, scale, zeroCount: 1, positive: { offset, bucketCounts: counts }, exemplars: [] }] },
    });
    const run = (m: Metric) => translate(batch([m]), OPTS, tracker, () => assert.fail('no drop'))[0]!.value as ExpValue;
    run(exp(1, 2, 4, [1, 1, 1, 1]));
    // Scale 1 is half the resolution: scale-2 buckets 4..7 fold into 2..3.
    const v = run(exp(2, 1, 2, [10, 20]));
    assert.equal(v.scale, 1);
    assert.deepEqual(v.positive, { offset: 2, counts: [12, 22] });
    assert.equal(v.zeroCount, 2);
    assert.equal(v.count, 34);
  });

  it('exponential scale above 8 is lowered to 8 (Prometheus schemas stop there); below -4 is dropped', () => {
    const drops: string[] = [];
    const exp = (scale: number): Metric => ({
      name: 'e', unit: '', exponentialHistogram: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ attributes: [], timeUnixNano: nanosFromMillis(T0), count: 3, sum: 1, scale, positive: { offset: 1024, bucketCounts: [1, 1, 1] }, exemplars: [] }] },
    });
    const pts = translate(batch([exp(10), exp(-5)]), OPTS, new CumulativeTracker(0), (r) => drops.push(r));
    assert.equal(pts.length, 1);
    assert.deepEqual((pts[0]!.value as ExpValue).positive, { offset: 256, counts: [3] });
    assert.equal((pts[0]!.value as ExpValue).scale, 8);
    assert.deepEqual(drops, ['invalid_exponential_scale']);
  });

  it('native histogram spans/deltas use Prometheus indexes (OTel index + 1) and skip empty buckets', () => {
    assert.deepEqual(spansAndDeltas({ offset: -1, counts: [2, 3, 0, 0, 0, 1, 1] }), { spans: [{ offset: 0, length: 2 }, { offset: 3, length: 2 }], deltas: [2, 1, -2, 0] });
    assert.deepEqual(spansAndDeltas({ offset: 5, counts: [] }), { spans: [], deltas: [] });
  });

  it('classic form of an exponential histogram: exact counts at the bucket boundaries', () => {
    const c = expToClassic({ kind: 'exponential', scale: 0, zeroThreshold: 0, zeroCount: 1, count: 7, sum: 3, positive: { offset: 0, counts: [2, 0, 3] }, negative: { offset: 1, counts: [1] } });
    assert.deepEqual(c.bounds, [-2, 0, 2, 8]);
    assert.deepEqual(c.counts, [1, 1, 2, 3, 0]);
  });
});

interface Received { headers: http.IncomingHttpHeaders; body: Decoded }

/** A remote-write endpoint that records requests and answers with the statuses queued in `answers` (then 204). */
async function recordingEndpoint(): Promise<{ url: string; received: Received[]; answers: number[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const answers: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = answers.shift() ?? 204;
      if (status === 204) received.push({ headers: req.headers, body: decode(uncompressSync(Buffer.concat(chunks), { asBuffer: true }) as Buffer) });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 204 ? '' : `status ${status}: out of order sample`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`, received, answers,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function exporter(config: Record<string, unknown>): { c: Component & { consumers: SignalConsumers }; tel: RecordingTelemetry } {
  const f = prometheusRemoteWriteExporterFactory as ExporterFactory;
  const { value, issues } = readConfig(f.config, config);
  assert.deepEqual([...issues.filter((i) => i.severity === 'error'), ...(f.validate?.(value) ?? [])], []);
  const tel = new RecordingTelemetry();
  return { c: f.create(testSettings(tel, 'prometheusremotewrite', 'exporter'), value, ['metrics']), tel };
}

describe('prometheusremotewrite exporter over HTTP', () => {
  const fastRetry = { initial_interval: '10ms', max_interval: '20ms', max_elapsed_time: '10s' };

  it('sends the remote-write headers and a snappy block body', async () => {
    const ep = await recordingEndpoint();
    const { c } = exporter({ endpoint: ep.url, sending_queue: { enabled: false }, headers: { 'X-Scope-OrgID': 't1' } });
    await c.start(testHost);
    try {
      await c.consumers.metrics!.consume(batch([deltaSum(3, T0, T0 - 1)]));
      const h = ep.received[0]!.headers;
      assert.equal(h['content-type'], 'application/x-protobuf');
      assert.equal(h['content-encoding'], 'snappy');
      assert.equal(h['x-prometheus-remote-write-version'], '0.1.0');
      assert.equal(h['user-agent'], 'sonde/test');
      assert.equal(h['x-scope-orgid'], 't1');
      assert.deepEqual(ep.received[0]!.body.timeseries[0]!.samples, [{ value: 3, timestamp: T0 }]);
    } finally {
      await c.shutdown();
      await ep.close();
    }
  });

  it('a 400 is permanent: one attempt, counted as dropped permanent_error', async () => {
    const ep = await recordingEndpoint();
    const { c, tel } = exporter({ endpoint: ep.url, retry_on_failure: fastRetry });
    await c.start(testHost);
    try {
      ep.answers.push(400);
      await c.consumers.metrics!.consume(batch([deltaSum(3, T0, T0 - 1)]));
      await c.shutdown();
      assert.equal(ep.answers.length, 0);
      assert.equal(ep.received.length, 0);
      assert.deepEqual(tel.calls.filter((x) => x.what === 'dropped'), [{ what: 'dropped', signal: 'metrics', items: 1, reason: 'permanent_error' }]);
    } finally {
      await c.shutdown();
      await ep.close();
    }
  });

  it('5xx and 429 are retried; a retry neither adds the delta twice nor resends accepted requests', async () => {
    const ep = await recordingEndpoint();
    // Tiny requests: the batch is split in several; the second request fails twice.
    const { c, tel } = exporter({ endpoint: ep.url, retry_on_failure: fastRetry, max_batch_size_bytes: 60, sending_queue: { enabled: false } });
    await c.start(testHost);
    try {
      const metrics: Metric[] = Array.from({ length: 4 }, (_, i) => ({ ...deltaSum(10 + i, T0, T0 - 5), name: `m${i}` }));
      ep.answers.push(204, 503, 429);
      await c.consumers.metrics!.consume(batch(metrics));
      const got = ep.received.flatMap((r) => r.body.timeseries.map((t) => [t.labels.find((l) => l.name === '__name__')!.value, t.samples[0]!.value]));
      assert.deepEqual(got, [['m0_total', 10], ['m1_total', 11], ['m2_total', 12], ['m3_total', 13]]);
      await c.consumers.metrics!.consume(batch(Array.from({ length: 4 }, (_, i) => ({ ...deltaSum(1, T0 + 10, T0), name: `m${i}` }))));
      assert.deepEqual(ep.received.slice(-4).map((r) => r.body.timeseries[0]!.samples[0]!.value), [11, 12, 13, 14]);
      assert.equal(tel.total('sent', 'metrics'), 8);
      assert.equal(tel.total('dropped'), 0);
    } finally {
      await c.shutdown();
      await ep.close();
    }
  });

  it('config: wal needs the queue and excludes sending_queue.storage; endpoint is required; >1 consumer warns', () => {
    const f = prometheusRemoteWriteExporterFactory as ExporterFactory;
    const check = (c: Record<string, unknown>): string[] => f.validate!(readConfig(f.config, { endpoint: 'http://x:1/api/v1/write', ...c }).value).map((i) => `${i.severity}: ${i.message}`);
    assert.deepEqual(check({ wal: { directory: '/tmp/w' } }), []);
    assert.match(check({ wal: { directory: '/tmp/w' }, sending_queue: { storage: 'file_storage/q' } }).join('\n'), /^error: wal and sending_queue.storage/);
    assert.match(check({ wal: { directory: '/tmp/w' }, remote_write_queue: { enabled: false } }).join('\n'), /^error: the wal is the sending queue on disk/);
    assert.match(check({ remote_write_queue: { num_consumers: 3 } }).join('\n'), /^warning: 3 consumers send batches in parallel/);
    assert.match(f.validate!(readConfig(f.config, {}).value).map((i) => i.message).join('\n'), /endpoint is required/);
  });
});
