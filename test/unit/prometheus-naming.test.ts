// OTel -> Prometheus names and labels: the cases of the compatibility spec and of the Collector
// translator's table (full normalization, its default), and what the translation does with
// resources, scopes and attributes.
import * as assert from 'node:assert/strict';
import Long from 'long';
import { CumulativeTracker } from '../../pipeline/prometheus/cumulative';
import { labelName, metricName, type NameInput } from '../../pipeline/prometheus/naming';
import { translate, type TranslateOptions } from '../../pipeline/prometheus/translate';
import { AggregationTemporality, nanosFromMillis, type KeyValue, type MetricsData } from '../../pipeline/pdata';

const SUFFIXES = { namespace: '', addMetricSuffixes: true };

describe('prometheus naming: metric names (spec and Collector table)', () => {
  const cases: [NameInput, string][] = [
    [{ name: 'system.filesystem.usage', unit: 'By', kind: 'gauge' }, 'system_filesystem_usage_bytes'],
    [{ name: 'system.network.dropped', unit: '{packets}', kind: 'gauge' }, 'system_network_dropped'],
    [{ name: 'system.network.dropped', unit: '{packets}', kind: 'counter' }, 'system_network_dropped_total'],
    [{ name: 'system.network.dropped', unit: 'packets', kind: 'gauge' }, 'system_network_dropped_packets'],
    [{ name: 'system.memory.utilization', unit: '1', kind: 'gauge' }, 'system_memory_utilization_ratio'],
    [{ name: '(lambda).function.executions(#)', unit: '', kind: 'gauge' }, 'lambda_function_executions'],
    [{ name: 'http.server.request.duration', unit: 's', kind: 'other' }, 'http_server_request_duration_seconds'],
    [{ name: 'http.server.requests', unit: '{request}', kind: 'counter' }, 'http_server_requests_total'],
    [{ name: 'requests_total', unit: '', kind: 'counter' }, 'requests_total'],
    [{ name: 'total.requests', unit: '', kind: 'counter' }, 'requests_total'],
    [{ name: 'bytes.sent', unit: 'By', kind: 'counter' }, 'bytes_sent_total'],
    [{ name: 'network.io', unit: 'By/s', kind: 'gauge' }, 'network_io_bytes_per_second'],
    [{ name: 'packets.rate', unit: '{packets}/s', kind: 'gauge' }, 'packets_rate_per_second'],
    [{ name: 'rpc.duration', unit: 'ms', kind: 'other' }, 'rpc_duration_milliseconds'],
    [{ name: 'room.temperature', unit: 'Cel', kind: 'gauge' }, 'room_temperature_celsius'],
    [{ name: 'disk.used', unit: '%', kind: 'gauge' }, 'disk_used_percent'],
    [{ name: 'memory', unit: 'MiBy', kind: 'gauge' }, 'memory_mebibytes'],
    [{ name: 'cpu.time', unit: '1', kind: 'counter' }, 'cpu_time_total'],
    [{ name: 'cache.hit.ratio', unit: '1', kind: 'gauge' }, 'cache_hit_ratio'],
    [{ name: '2xx.responses', unit: '', kind: 'counter' }, '_2xx_responses_total'],
    [{ name: 'latency.seconds', unit: 's', kind: 'other' }, 'latency_seconds'],
    [{ name: 'weird__name--x', unit: '', kind: 'gauge' }, 'weird_name_x'],
    [{ name: 'ns:recording:rule', unit: '', kind: 'gauge' }, 'ns_recording_rule'],
    [{ name: 'fréquence', unit: 'Hz', kind: 'gauge' }, 'fr_quence_hertz'],
  ];
  for (const [input, want] of cases) {
    it(`${input.name} (${input.unit || 'no unit'}, ${input.kind}) -> ${want}`, () => {
      assert.equal(metricName(input, SUFFIXES), want);
    });
  }

  it('the namespace goes first', () => {
    assert.equal(metricName({ name: 'http.requests', unit: '', kind: 'counter' }, { namespace: 'sonde', addMetricSuffixes: true }), 'sonde_http_requests_total');
  });

  it('add_metric_suffixes: false only sanitizes (invalid -> "_", runs collapse), keeps ":"', () => {
    const o = { namespace: '', addMetricSuffixes: false };
    assert.equal(metricName({ name: 'http.server.duration', unit: 's', kind: 'other' }, o), 'http_server_duration');
    assert.equal(metricName({ name: 'requests', unit: '', kind: 'counter' }, o), 'requests');
    assert.equal(metricName({ name: 'a..b//c', unit: '', kind: 'gauge' }, o), 'a_b_c');
    assert.equal(metricName({ name: 'job:rate5m', unit: '', kind: 'gauge' }, o), 'job:rate5m');
    assert.equal(metricName({ name: '9lives', unit: '', kind: 'gauge' }, { namespace: '', addMetricSuffixes: false }), '_9lives');
  });

  it('a name with nothing valid in it is refused (empty)', () => {
    assert.equal(metricName({ name: '(#)', unit: '', kind: 'gauge' }, SUFFIXES), '');
    assert.equal(metricName({ name: '', unit: 's', kind: 'other' }, SUFFIXES), 'seconds');
    assert.equal(metricName({ name: '...', unit: '', kind: 'gauge' }, { namespace: '', addMetricSuffixes: false }), '');
  });
});

describe('prometheus naming: label names', () => {
  const cases: [string, string][] = [
    ['http.request.method', 'http_request_method'],
    ['route', 'route'],
    ['k8s.pod.name', 'k8s_pod_name'],
    ['2xx', 'key_2xx'],
    ['__name__', 'key__name__'],
    ['_private', '_private'],
    ['Upper.Case', 'Upper_Case'],
    ['ünïcode', '_n_code'],
    ['', ''],
  ];
  for (const [key, want] of cases) it(`"${key}" -> "${want}"`, () => assert.equal(labelName(key), want));
});

function str(key: string, value: string): KeyValue {
  return { key, value: { stringValue: value } };
}

const OPTS: TranslateOptions = { namespace: '', addMetricSuffixes: true, resourceToTelemetry: false, targetInfo: true, extraLabels: [] };

function gaugeData(resource: KeyValue[], attrs: KeyValue[], scope = { name: 'my.scope', version: '1.2' }): MetricsData {
  return {
    resourceMetrics: [{
      resource: { attributes: resource },
      scopeMetrics: [{
        scope: { ...scope, attributes: [] },
        metrics: [{ name: 'queue.depth', unit: '', gauge: { dataPoints: [{ attributes: attrs, timeUnixNano: nanosFromMillis(1_700_000_000_000), asDouble: 3, exemplars: [] }] } }],
      }],
    }],
  };
}

describe('prometheus translation: labels, job/instance, target_info', () => {
  const drops: string[] = [];
  const run = (data: MetricsData, opts: TranslateOptions = OPTS) => translate(data, opts, new CumulativeTracker(0), (r) => drops.push(r));

  it('job from service.namespace/service.name, instance from service.instance.id, scope labels, sorted', () => {
    const pts = run(gaugeData([str('service.name', 'cart'), str('service.namespace', 'shop'), str('service.instance.id', 'i-1'), str('host.name', 'n1')], [str('queue', 'a'), str('Zed', 'z')]));
    assert.equal(pts.length, 2);
    assert.equal(pts[0]!.family.name, 'queue_depth');
    assert.deepEqual(pts[0]!.labels, [
      { name: 'Zed', value: 'z' }, { name: 'instance', value: 'i-1' }, { name: 'job', value: 'shop/cart' },
      { name: 'otel_scope_name', value: 'my.scope' }, { name: 'otel_scope_version', value: '1.2' }, { name: 'queue', value: 'a' },
    ]);
    const info = pts[1]!;
    assert.equal(info.family.name, 'target_info');
    assert.equal(info.timestampMs, 1_700_000_000_000, 'target_info at the latest point of its resource');
    assert.deepEqual(info.labels, [{ name: 'host_name', value: 'n1' }, { name: 'instance', value: 'i-1' }, { name: 'job', value: 'shop/cart' }]);
  });

  it('no target_info when the resource has only identifying attributes, or when disabled', () => {
    assert.equal(run(gaugeData([str('service.name', 'cart')], [])).length, 1);
    assert.equal(run(gaugeData([str('service.name', 'cart'), str('host.name', 'n')], []), { ...OPTS, targetInfo: false }).length, 1);
  });

  it('attributes that collide after sanitizing join their values with ";" in key order; empty values vanish', () => {
    const pts = run(gaugeData([], [str('a.b', '2'), str('a_b', '1'), str('a-b', '3'), str('empty', '')]));
    assert.deepEqual(pts[0]!.labels.filter((l) => l.name.startsWith('a')), [{ name: 'a_b', value: '3;2;1' }]);
    assert.equal(pts[0]!.labels.some((l) => l.name === 'empty'), false);
  });

  it('non-string attribute values as text; lists as JSON', () => {
    const pts = run(gaugeData([], [
      { key: 'i', value: { intValue: Long.fromNumber(42) } }, { key: 'b', value: { boolValue: true } }, { key: 'd', value: { doubleValue: 0.5 } },
      { key: 'l', value: { arrayValue: { values: [{ stringValue: 'x' }, { intValue: 1 }] } } },
    ]));
    const l = Object.fromEntries(pts[0]!.labels.map((x) => [x.name, x.value]));
    assert.deepEqual([l['i'], l['b'], l['d'], l['l']], ['42', 'true', '0.5', '["x",1]']);
  });

  it('resource_to_telemetry_conversion: resource attributes as labels, never over the point\'s own', () => {
    const pts = run(gaugeData([str('service.name', 'cart'), str('host.name', 'n1'), str('queue', 'from-resource')], [str('queue', 'a')]), { ...OPTS, resourceToTelemetry: true, targetInfo: false });
    const l = Object.fromEntries(pts[0]!.labels.map((x) => [x.name, x.value]));
    assert.equal(l['host_name'], 'n1');
    assert.equal(l['service_name'], 'cart');
    assert.equal(l['queue'], 'a');
  });

  it('external labels only where no attribute set the label; job/instance win over attributes', () => {
    const pts = run(gaugeData([str('service.name', 'cart')], [str('region', 'eu'), str('job', 'attr')]), { ...OPTS, extraLabels: [{ name: 'region', value: 'us' }, { name: 'cluster', value: 'c1' }] });
    const l = Object.fromEntries(pts[0]!.labels.map((x) => [x.name, x.value]));
    assert.deepEqual([l['region'], l['cluster'], l['job']], ['eu', 'c1', 'cart']);
  });

  it('metrics whose name sanitizes to nothing are dropped with a reason', () => {
    drops.length = 0;
    const data = gaugeData([], []);
    data.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.name = '(#)';
    assert.equal(run(data, { ...OPTS, targetInfo: false }).length, 0);
    assert.deepEqual(drops, ['invalid_metric_name']);
  });

  it('sums: monotonic -> counter with _total, non-monotonic -> gauge; unspecified temporality is dropped', () => {
    drops.length = 0;
    const sum = (isMonotonic: boolean, t: AggregationTemporality): MetricsData => ({
      resourceMetrics: [{ resource: { attributes: [] }, scopeMetrics: [{ metrics: [{ name: 'x', unit: 'By', sum: { isMonotonic, aggregationTemporality: t, dataPoints: [{ attributes: [], timeUnixNano: nanosFromMillis(1000), asInt: 5, exemplars: [] }] } }] }] }],
    });
    assert.deepEqual(run(sum(true, AggregationTemporality.CUMULATIVE)).map((p) => [p.family.name, p.family.type]), [['x_bytes_total', 'counter']]);
    assert.deepEqual(run(sum(false, AggregationTemporality.CUMULATIVE)).map((p) => [p.family.name, p.family.type]), [['x_bytes', 'gauge']]);
    assert.equal(run(sum(true, AggregationTemporality.UNSPECIFIED)).length, 0);
    assert.deepEqual(drops, ['unspecified_temporality']);
  });
});
