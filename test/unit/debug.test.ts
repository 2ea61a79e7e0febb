// The debug exporter: exact output at each verbosity, sampling, the `logging` alias with its
// `loglevel` key, counts per batch.
import assert from 'node:assert/strict';
import Long from 'long';
import type { ComponentTelemetry, Settings } from '../../pipeline/component';
import { readConfig } from '../../pipeline/config/schema';
import { silentLogger } from '../../pipeline/logger';
import { codecs } from '../../pipeline/otlp/codec';
import type { LogsData, MetricsData, TracesData } from '../../pipeline/pdata';
import { debugExporterFactory } from '../../exporters/debug';
import type { DebugConfig } from '../../exporters/debug/config';
import { DebugExporter, type TextOutput } from '../../exporters/debug/exporter';
import { duration, severityName } from '../../exporters/debug/format';

const t0 = Long.fromString('1700000000123456789', true);
const id = (n: number, len: number) => new Uint8Array(len).fill(n);

const traces: TracesData = {
  resourceSpans: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] },
    scopeSpans: [{
      scope: { name: 'ebpf_http', version: '1.0', attributes: [] },
      spans: [
        {
          traceId: id(1, 16), spanId: id(2, 8), parentSpanId: id(3, 8), name: 'GET /users', kind: 2, startTimeUnixNano: t0, endTimeUnixNano: t0.add(1_500_000),
          attributes: [{ key: 'http.status_code', value: { intValue: 503 } }], events: [{ name: 'retry', timeUnixNano: t0.add(10), attributes: [] }], links: [],
          status: { code: 2, message: 'upstream' },
        },
        { traceId: id(1, 16), spanId: id(4, 8), name: 'SELECT', kind: 3, startTimeUnixNano: t0, endTimeUnixNano: t0.add(250_000), attributes: [], events: [], links: [] },
      ],
    }],
  }, { resource: { attributes: [] }, scopeSpans: [] }],
};

const metrics: MetricsData = {
  resourceMetrics: [{
    resource: { attributes: [{ key: 'host', value: { stringValue: 'n1' } }] },
    scopeMetrics: [{
      scope: { name: 's', attributes: [] },
      metrics: [
        { name: 'requests', unit: '1', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [
          { attributes: [{ key: 'code', value: { stringValue: '200' } }], startTimeUnixNano: t0, timeUnixNano: t0, asInt: 7, exemplars: [] },
          { attributes: [{ key: 'code', value: { stringValue: '503' } }], startTimeUnixNano: t0, timeUnixNano: t0, asInt: 2, exemplars: [] },
        ] } },
        { name: 'latency', unit: 'ms', histogram: { aggregationTemporality: 1, dataPoints: [
          { attributes: [], timeUnixNano: t0, count: 3, sum: 12.5, min: 1, max: 8, bucketCounts: [1, 2], explicitBounds: [5], exemplars: [] },
        ] } },
      ],
    }],
  }],
};

const logs: LogsData = {
  resourceLogs: [{
    resource: { attributes: [] },
    scopeLogs: [{
      scope: { name: 'l', attributes: [] },
      logRecords: [
        { timeUnixNano: t0, severityNumber: 9, severityText: 'INFO', body: { stringValue: 'hello' }, attributes: [{ key: 'k', value: { boolValue: true } }], traceId: id(5, 16), spanId: id(6, 8) },
        { severityNumber: 17, body: { kvlistValue: { values: [{ key: 'a', value: { arrayValue: { values: [{ intValue: 1 }, { doubleValue: 2.5 }] } } }] } }, attributes: [] },
      ],
    }],
  }],
};

interface Counts { sent: number[]; failed: number[] }

function settings(counts: Counts): Settings {
  const telemetry: ComponentTelemetry = {
    accepted() {}, refused() {}, dropped() {}, observeGauge() {}, count() {},
    sent(_s, n) { counts.sent.push(n); },
    failed(_s, n) { counts.failed.push(n); },
  };
  return { id: 'debug', kind: 'exporter', logger: silentLogger, telemetry, buildInfo: { command: 'sonde', version: 'test' } };
}

class Capture implements TextOutput {
  chunks: string[] = [];
  write(chunk: string, cb: (err?: Error | null) => void): boolean {
    this.chunks.push(chunk);
    setImmediate(cb);
    return true;
  }
  lines(): string[] { return this.chunks.join('').split('\n').slice(0, -1); }
}

function config(raw: Record<string, unknown>): DebugConfig {
  const { value, issues } = readConfig(debugExporterFactory.config, raw);
  assert.deepEqual(issues.filter((i) => i.severity === 'error'), []);
  return value as DebugConfig;
}

async function output(raw: Record<string, unknown>, send: (e: DebugExporter) => Promise<void>): Promise<string[]> {
  const out = new Capture();
  const e = new DebugExporter(settings({ sent: [], failed: [] }), config(raw), ['traces', 'metrics', 'logs'], out);
  await send(e);
  return out.lines();
}

const sendTraces = (e: DebugExporter) => e.consumers.traces!.consume(traces);
const sendMetrics = (e: DebugExporter) => e.consumers.metrics!.consume(metrics);
const sendLogs = (e: DebugExporter) => e.consumers.logs!.consume(logs);

describe('debug exporter', () => {
  describe('config', () => {
    it('has the Collector defaults', () => {
      assert.deepEqual(readConfig(debugExporterFactory.config, null), { value: { verbosity: 'basic', sampling_initial: 2, sampling_thereafter: 1 }, issues: [] });
    });

    it('loads the logging exporter: the alias, and loglevel renamed to verbosity with its meaning', () => {
      assert.deepEqual(debugExporterFactory.deprecatedAliases, ['logging']);
      const cases: [string, string][] = [['debug', 'detailed'], ['info', 'normal'], ['warn', 'basic'], ['error', 'basic']];
      for (const [loglevel, verbosity] of cases) {
        const { value, issues } = readConfig(debugExporterFactory.config, { loglevel });
        assert.equal((value as DebugConfig).verbosity, verbosity, `loglevel ${loglevel}`);
        assert.deepEqual(issues.map((i) => [i.severity, i.path.join('.'), i.message]), [
          ['warning', 'loglevel', '"loglevel" is deprecated, use "verbosity"'],
          ['warning', 'verbosity', `loglevel "${loglevel}" is read as verbosity "${verbosity}"`],
        ]);
      }
    });

    it('verbosity wins over loglevel; a wrong verbosity gets a suggestion', () => {
      assert.equal((readConfig(debugExporterFactory.config, { loglevel: 'debug', verbosity: 'basic' }).value as DebugConfig).verbosity, 'basic');
      const { issues } = readConfig(debugExporterFactory.config, { verbosity: 'detaild' });
      assert.deepEqual(issues.map((i) => i.message), ['expected one of basic, normal, detailed, got "detaild" (did you mean "detailed"?)']);
    });
  });

  describe('basic', () => {
    it('one summary line per batch', async () => {
      assert.deepEqual(await output({}, sendTraces), ['Traces: resource spans 2, spans 2']);
      assert.deepEqual(await output({}, sendMetrics), ['Metrics: resource metrics 1, metrics 2, data points 3']);
      assert.deepEqual(await output({}, sendLogs), ['Logs: resource logs 1, log records 2']);
    });
  });

  describe('normal', () => {
    it('spans: name, ids, kind, duration, status', async () => {
      assert.deepEqual(await output({ verbosity: 'normal' }, sendTraces), [
        'Traces: resource spans 2, spans 2',
        'span "GET /users" trace_id=01010101010101010101010101010101 span_id=0202020202020202 kind=Server duration=1.5ms status=Error "upstream"',
        'span "SELECT" trace_id=01010101010101010101010101010101 span_id=0404040404040404 kind=Client duration=250µs status=Unset',
      ]);
    });

    it('metrics: name, type, unit, points', async () => {
      assert.deepEqual(await output({ verbosity: 'normal' }, sendMetrics), [
        'Metrics: resource metrics 1, metrics 2, data points 3',
        'metric "requests" type=Sum unit=1 points=2',
        'metric "latency" type=Histogram unit=ms points=1',
      ]);
    });

    it('logs: severity and body', async () => {
      assert.deepEqual(await output({ verbosity: 'normal' }, sendLogs), [
        'Logs: resource logs 1, log records 2',
        'log severity=INFO body="hello"',
        'log severity=Error body={"a":[1,2.5]}',
      ]);
    });
  });

  describe('detailed', () => {
    it('traces: resource, scope and every field', async () => {
      assert.deepEqual(await output({ verbosity: 'detailed' }, sendTraces), [
        'Traces: resource spans 2, spans 2',
        'ResourceSpans #0',
        '  Resource SchemaURL:',
        '  Resource attributes:',
        '    -> service.name: Str(api)',
        '  ScopeSpans #0',
        '    ScopeSpans SchemaURL:',
        '    InstrumentationScope ebpf_http 1.0',
        '    Span #0',
        '      Trace ID: 01010101010101010101010101010101',
        '      Parent ID: 0303030303030303',
        '      ID: 0202020202020202',
        '      Name: GET /users',
        '      Kind: Server',
        '      TraceState:',
        '      Start time: 2023-11-14T22:13:20.123456789Z',
        '      End time: 2023-11-14T22:13:20.124956789Z',
        '      Duration: 1.5ms',
        '      Status code: Error',
        '      Status message: upstream',
        '      Flags: 0',
        '      DroppedAttributesCount: 0',
        '      Attributes:',
        '        -> http.status_code: Int(503)',
        '      Events:',
        '        SpanEvent #0',
        '          -> Name: retry',
        '          -> Timestamp: 2023-11-14T22:13:20.123456799Z',
        '          -> DroppedAttributesCount: 0',
        '    Span #1',
        '      Trace ID: 01010101010101010101010101010101',
        '      Parent ID:',
        '      ID: 0404040404040404',
        '      Name: SELECT',
        '      Kind: Client',
        '      TraceState:',
        '      Start time: 2023-11-14T22:13:20.123456789Z',
        '      End time: 2023-11-14T22:13:20.123706789Z',
        '      Duration: 250µs',
        '      Status code: Unset',
        '      Status message:',
        '      Flags: 0',
        '      DroppedAttributesCount: 0',
        'ResourceSpans #1',
        '  Resource SchemaURL:',
      ]);
    });

    it('metrics: descriptor and data points', async () => {
      assert.deepEqual(await output({ verbosity: 'detailed' }, sendMetrics), [
        'Metrics: resource metrics 1, metrics 2, data points 3',
        'ResourceMetrics #0',
        '  Resource SchemaURL:',
        '  Resource attributes:',
        '    -> host: Str(n1)',
        '  ScopeMetrics #0',
        '    ScopeMetrics SchemaURL:',
        '    InstrumentationScope s',
        '    Metric #0',
        '      Descriptor:',
        '        -> Name: requests',
        '        -> Description:',
        '        -> Unit: 1',
        '        -> DataType: Sum',
        '        -> IsMonotonic: true',
        '        -> AggregationTemporality: Cumulative',
        '      NumberDataPoints #0',
        '        Data point attributes:',
        '          -> code: Str(200)',
        '        StartTimestamp: 2023-11-14T22:13:20.123456789Z',
        '        Timestamp: 2023-11-14T22:13:20.123456789Z',
        '        Value: 7',
        '      NumberDataPoints #1',
        '        Data point attributes:',
        '          -> code: Str(503)',
        '        StartTimestamp: 2023-11-14T22:13:20.123456789Z',
        '        Timestamp: 2023-11-14T22:13:20.123456789Z',
        '        Value: 2',
        '    Metric #1',
        '      Descriptor:',
        '        -> Name: latency',
        '        -> Description:',
        '        -> Unit: ms',
        '        -> DataType: Histogram',
        '        -> AggregationTemporality: Delta',
        '      HistogramDataPoints #0',
        '        StartTimestamp: 1970-01-01T00:00:00.000000000Z',
        '        Timestamp: 2023-11-14T22:13:20.123456789Z',
        '        Count: 3',
        '        Sum: 12.5',
        '        Min: 1',
        '        Max: 8',
        '        ExplicitBounds #0: 5',
        '        Buckets #0, Count: 1',
        '        Buckets #1, Count: 2',
      ]);
    });

    it('logs: every field', async () => {
      assert.deepEqual(await output({ verbosity: 'detailed' }, sendLogs), [
        'Logs: resource logs 1, log records 2',
        'ResourceLog #0',
        '  Resource SchemaURL:',
        '  ScopeLogs #0',
        '    ScopeLogs SchemaURL:',
        '    InstrumentationScope l',
        '    LogRecord #0',
        '      ObservedTimestamp: 1970-01-01T00:00:00.000000000Z',
        '      Timestamp: 2023-11-14T22:13:20.123456789Z',
        '      SeverityText: INFO',
        '      SeverityNumber: Info(9)',
        '      Body: Str(hello)',
        '      Attributes:',
        '        -> k: Bool(true)',
        '      Trace ID: 05050505050505050505050505050505',
        '      Span ID: 0606060606060606',
        '      Flags: 0',
        '      DroppedAttributesCount: 0',
        '    LogRecord #1',
        '      ObservedTimestamp: 1970-01-01T00:00:00.000000000Z',
        '      Timestamp: 1970-01-01T00:00:00.000000000Z',
        '      SeverityText:',
        '      SeverityNumber: Error(17)',
        '      Body: Map({"a":[1,2.5]})',
        '      Trace ID:',
        '      Span ID:',
        '      Flags: 0',
        '      DroppedAttributesCount: 0',
      ]);
    });
  });

  it('decoded protobuf (defaults on prototypes, unset messages null) prints as the data it came from', async () => {
    const decoded = {
      traces: codecs.traces.decodeRequest(codecs.traces.encodeRequest(traces)),
      metrics: codecs.metrics.decodeRequest(codecs.metrics.encodeRequest(metrics)),
      logs: codecs.logs.decodeRequest(codecs.logs.encodeRequest(logs)),
    };
    for (const verbosity of ['basic', 'normal', 'detailed']) {
      assert.deepEqual(await output({ verbosity }, (e) => e.consumers.traces!.consume(decoded.traces)), await output({ verbosity }, sendTraces));
      assert.deepEqual(await output({ verbosity }, (e) => e.consumers.metrics!.consume(decoded.metrics)), await output({ verbosity }, sendMetrics));
      assert.deepEqual(await output({ verbosity }, (e) => e.consumers.logs!.consume(decoded.logs)), await output({ verbosity }, sendLogs));
    }
  });

  it('samples per second: the first sampling_initial batches, then every sampling_thereafter-th', async () => {
    let now = 10_000;
    const out = new Capture();
    const counts: Counts = { sent: [], failed: [] };
    const e = new DebugExporter(settings(counts), config({ sampling_initial: 2, sampling_thereafter: 3 }), ['logs'], out, () => now);
    for (let i = 0; i < 8; i++) await e.consumers.logs!.consume(logs);
    // Batches 1, 2 pass; then 5 and 8 (every third after the first two).
    assert.equal(out.chunks.length, 4);
    now += 1000;
    await e.consumers.logs!.consume(logs);
    assert.equal(out.chunks.length, 5, 'a new second starts over');
    assert.deepEqual(counts.sent, Array(9).fill(2), 'every batch counts as sent, written or sampled out');
  });

  it('counts a failed write and hands the error back', async () => {
    const counts: Counts = { sent: [], failed: [] };
    const broken: TextOutput = { write(_c, cb) { setImmediate(() => cb(new Error('EPIPE'))); return false; } };
    const e = new DebugExporter(settings(counts), config({}), ['traces'], broken);
    await assert.rejects(e.consumers.traces!.consume(traces), /EPIPE/);
    assert.deepEqual(counts, { sent: [], failed: [2] });
  });

  it('the factory writes to stdout', async () => {
    const counts: Counts = { sent: [], failed: [] };
    const e = debugExporterFactory.create(settings(counts), config({}), ['logs']);
    const written: string[] = [];
    const original = process.stdout.write;
    process.stdout.write = ((chunk: string, cb: () => void) => { written.push(chunk); cb(); return true; }) as typeof process.stdout.write;
    try {
      await e.consumers.logs!.consume(logs);
    } finally {
      process.stdout.write = original;
    }
    assert.deepEqual(written, ['Logs: resource logs 1, log records 2\n']);
  });

  it('formats durations and severities as the Collector does', () => {
    assert.deepEqual([0, 750, 12_500, 1_500_000, 2_250_000_000, 90e9, 7201e9].map(duration), ['0s', '750ns', '12.5µs', '1.5ms', '2.25s', '1m30s', '2h0m1s']);
    assert.deepEqual([0, 1, 9, 10, 17, 24].map(severityName), ['Unspecified', 'Trace', 'Info', 'Info2', 'Error', 'Fatal4']);
  });
});
