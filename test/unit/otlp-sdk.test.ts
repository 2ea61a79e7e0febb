// Proof of the OTLP schema and codecs against the OpenTelemetry JS SDK: the SDK's real exporters
// (OTLP/HTTP protobuf, OTLP/HTTP JSON, OTLP/gRPC) send to capture servers on 127.0.0.1, and what
// our codec decodes is compared field by field with the SDK's own objects (ReadableSpan,
// ResourceMetrics, ReadableLogRecord) and across the three encodings.
import * as assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, ValueType, trace, type Link } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { AggregationTemporality, AggregationType, MeterProvider, MetricReader, type ResourceMetrics, type ViewOptions } from '@opentelemetry/sdk-metrics';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as TraceJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as MetricsJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsGrpc } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as LogsJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsGrpc } from '@opentelemetry/exporter-logs-otlp-grpc';
import { codecs, type SignalCodec } from '../../pipeline/otlp/codec';
import { otlpType } from '../../pipeline/otlp/schema';
import type { Signal } from '../../pipeline/pdata';
import {
  assertSameMessage, assertSamePlaced, placedLogs, placedMetrics, placedSpans, sdkExport, sdkPlacedLogs,
  sdkPlacedMetrics, sdkPlacedSpans, startGrpcCapture, startHttpCapture, type GrpcCapture, type HttpCapture,
} from '../helpers/sdk-capture';

const REQUEST_TYPES: { [S in Signal]: string } = {
  traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
  metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
  logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
};

interface Captured { proto: Buffer; json: Buffer; grpc: Buffer }

let httpCap: HttpCapture;
let grpcCap: GrpcCapture;

function takeHttp(path: string, json: boolean): Buffer {
  const i = httpCap.requests.findIndex((r) => r.path === path && r.contentType.includes('json') === json);
  assert.ok(i >= 0, `no ${json ? 'JSON' : 'protobuf'} request captured on ${path}`);
  const [req] = httpCap.requests.splice(i, 1);
  if (!json) assert.match(req.contentType, /application\/x-protobuf/);
  return req.body;
}

interface Exporter<T> { export(items: T, cb: (r: { code: number; error?: Error }) => void): void; shutdown(): Promise<void> }

/** Sends `items` through the SDK's proto, JSON and gRPC exporters for one signal. */
async function exportThree<T>(signal: Signal, items: T, make: { proto: Exporter<T>; json: Exporter<T>; grpc: Exporter<T> }): Promise<Captured> {
  const before = grpcCap.requests[signal].length;
  await sdkExport(make.proto, items);
  await sdkExport(make.json, items);
  await sdkExport(make.grpc, items);
  await Promise.all([make.proto.shutdown(), make.json.shutdown(), make.grpc.shutdown()]);
  const path = codecs[signal].httpPath;
  assert.equal(grpcCap.requests[signal].length, before + 1, 'one gRPC request');
  return { proto: takeHttp(path, false), json: takeHttp(path, true), grpc: grpcCap.requests[signal][before] };
}

/** The cross-encoding checks every signal gets. */
function encodingChecks<S extends Signal>(signal: S, get: () => Captured): void {
  const codec = codecs[signal] as unknown as SignalCodec<S>;
  const type = otlpType(REQUEST_TYPES[signal]);

  it('the SDK JSON exporter output decodes (our JSON decoder) to the same messages as its protobuf output', () => {
    const c = get();
    assertSameMessage(type, codec.decodeRequestJson(c.json), codec.decodeRequest(c.proto));
    assertSameMessage(type, codec.decodeRequestJson(c.json.toString('utf8')), codec.decodeRequest(c.proto));
  });

  it('the SDK gRPC exporter sends the same request as its HTTP protobuf exporter', () => {
    const c = get();
    assertSameMessage(type, codec.decodeRequest(c.grpc), codec.decodeRequest(c.proto));
  });

  it('encodeRequest(decodeRequest(sdk bytes)) decodes to equal data (bytes compared and reported)', () => {
    const c = get();
    const decoded = codec.decodeRequest(c.proto);
    const again = codec.encodeRequest(decoded);
    assertSameMessage(type, codec.decodeRequest(again), decoded);
    // Byte equality is not required: protobufjs writes fields in field-number order, the SDK's
    // hand-written writer does not everywhere, and both are valid protobuf.
    const sameBytes = Buffer.compare(Buffer.from(again), c.proto) === 0;
    console.log(`      ${signal}: re-encoded ${again.length} bytes, SDK sent ${c.proto.length}; byte-equal: ${sameBytes}`);
    // Our own encoding is canonical: encode(decode(encode(x))) is byte-identical.
    assert.equal(Buffer.compare(Buffer.from(codec.encodeRequest(codec.decodeRequest(again))), Buffer.from(again)), 0);
  });

  it('our JSON encode -> decode round-trips, and is one line', () => {
    const decoded = codec.decodeRequest(get().proto);
    const text = codec.encodeRequestJson(decoded);
    assert.ok(!text.includes('\n'), 'one line');
    assertSameMessage(type, codec.decodeRequestJson(text), decoded);
    assert.equal(codec.encodeRequestJson(codec.decodeRequestJson(text)), text, 'JSON encode is stable');
  });
}

describe('OTLP codec vs the OpenTelemetry JS SDK exporters', function () {
  this.timeout(30_000);

  before(async () => {
    httpCap = await startHttpCapture();
    grpcCap = await startGrpcCapture();
  });
  after(async () => {
    await httpCap?.close();
    await grpcCap?.close();
  });

  // ---- traces -----------------------------------------------------------------------------------
  describe('traces', () => {
    let spans: ReadableSpan[] = [];
    let captured: Captured;

    before(async () => {
      const memA = new InMemorySpanExporter();
      const memB = new InMemorySpanExporter();
      const limits = { attributeCountLimit: 14, eventCountLimit: 3, linkCountLimit: 2, attributePerEventCountLimit: 2 };
      const provA = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': 'svc-a', 'host.cores': 8, 'deploy.ok': true, 'k8s.ratio': 0.5 }),
        spanProcessors: [new SimpleSpanProcessor(memA)], spanLimits: limits,
      });
      const provB = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': 'svc-b', 'tags': ['x', 'y'] }),
        spanProcessors: [new SimpleSpanProcessor(memB)],
      });
      const t1 = provA.getTracer('scope-one', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });
      const t2 = provA.getTracer('scope-two');
      const t3 = provB.getTracer('scope-three', '0.0.1');

      const t0: [number, number] = [1_700_000_000, 123_456_789];
      const at = (ms: number): [number, number] => [t0[0] + Math.floor(ms / 1000), t0[1] + (ms % 1000) * 1000 + 7];
      const remoteCtx = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true,
        traceState: new TraceState('vendor1=a,vendor2=b'),
      });
      const links: Link[] = [
        { context: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, traceState: new TraceState('k=v') }, attributes: { 'link.n': 1, 'link.s': 'a' } },
        { context: { traceId: '5bf92f3577b34da6a3ce929d0e0e4736', spanId: '10f067aa0ba902b7', traceFlags: 0, isRemote: true } },
        { context: { traceId: '6bf92f3577b34da6a3ce929d0e0e4736', spanId: '20f067aa0ba902b7', traceFlags: 1 } },
      ];
      // A server span from a remote parent carrying trace state, every attribute type, limits hit.
      const root = t1.startSpan('GET /api/ünïcode', {
        kind: SpanKind.SERVER, startTime: t0, links,
        attributes: {
          str: 'value', empty: '', yes: true, no: false, int: 42, neg: -7, zero: 0, big: Number.MAX_SAFE_INTEGER,
          dbl: 3.25, negdbl: -0.125, strs: ['a', 'b', ''], ints: [1, 2, 3], mixed: [1, 2.5], bools: [true, false],
          dropped1: 'x', dropped2: 'y',
        },
      }, remoteCtx);
      for (let i = 0; i < 5; i++) root.addEvent(`event-${i}`, { n: i, s: `v${i}`, extra: true }, at(10 + i));
      root.setStatus({ code: SpanStatusCode.ERROR, message: 'boom: ½' });
      const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
      const child = t1.startSpan('SELECT', { kind: SpanKind.CLIENT, startTime: at(20), attributes: { 'db.system': 'postgresql' } }, rootCtx);
      child.setStatus({ code: SpanStatusCode.OK });
      child.end(at(30));
      const kinds = [SpanKind.INTERNAL, SpanKind.PRODUCER, SpanKind.CONSUMER];
      for (const kind of kinds) t2.startSpan(`kind-${kind}`, { kind, startTime: at(40 + kind) }, rootCtx).end(at(50 + kind));
      root.end(at(999));
      t3.startSpan('other-resource', { startTime: at(1) }).end(at(2));
      // A span with no explicit times: SDK clock, real nanosecond parts.
      t3.startSpan('now').end();

      spans = [...memA.getFinishedSpans(), ...memB.getFinishedSpans()];
      assert.equal(spans.length, 7);
      captured = await exportThree('traces', spans, {
        proto: new TraceProto({ url: `${httpCap.base}/v1/traces` }),
        json: new TraceJson({ url: `${httpCap.base}/v1/traces` }),
        grpc: new TraceGrpc({ url: grpcCap.url }),
      });
    });

    it('protobuf: every span field equals the SDK span (ids, parent, kind, times, attributes, events, links, status, dropped counts, trace state, resources, scopes)', () => {
      const decoded = codecs.traces.decodeRequest(captured.proto);
      assert.equal(decoded.resourceSpans.length, 2, 'two resources');
      assert.equal(decoded.resourceSpans.reduce((n, rs) => n + rs.scopeSpans.length, 0), 3, 'three scopes');
      assertSamePlaced(placedSpans(decoded), sdkPlacedSpans(spans), 'spans');
      // The limits really were hit, so dropped counts are not all zero.
      const root = spans.find((s) => s.name.startsWith('GET'));
      assert.ok(root && root.droppedAttributesCount > 0 && root.droppedEventsCount > 0 && root.droppedLinksCount > 0, 'span limits were hit');
      assert.ok(root.events.some((e) => (e.droppedAttributesCount ?? 0) > 0), 'event attribute limit was hit');
    });

    it('JSON exporter output decoded by our JSON decoder equals the SDK spans too', () => {
      assertSamePlaced(placedSpans(codecs.traces.decodeRequestJson(captured.json)), sdkPlacedSpans(spans), 'spans (JSON)');
    });

    it('decoded values have the pdata shapes: Long times, Buffer ids', () => {
      const s = codecs.traces.decodeRequest(captured.proto).resourceSpans[0].scopeSpans[0].spans[0];
      assert.ok(Buffer.isBuffer(s.traceId) && s.traceId.length === 16, 'traceId is a 16-byte Buffer');
      assert.ok(Buffer.isBuffer(s.spanId) && s.spanId.length === 8, 'spanId is an 8-byte Buffer');
      assert.equal(typeof s.startTimeUnixNano?.toString, 'function');
      assert.equal((s.startTimeUnixNano as { unsigned?: boolean }).unsigned, true);
    });

    encodingChecks('traces', () => captured);
  });

  // ---- metrics ----------------------------------------------------------------------------------
  describe('metrics', () => {
    let collected: ResourceMetrics[] = [];
    const captures: Captured[] = [];

    class TestReader extends MetricReader {
      protected async onForceFlush(): Promise<void> { /* pull only */ }
      protected async onShutdown(): Promise<void> { /* nothing held */ }
    }

    before(async () => {
      const cumulative = new TestReader();
      const delta = new TestReader({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
      const views: ViewOptions[] = [
        { instrumentName: 'latency', aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [0, 5, 10, 100] } } },
        { instrumentName: 'latency.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 40 } } },
      ];
      const provA = new MeterProvider({
        resource: resourceFromAttributes({ 'service.name': 'metrics-a', 'host.id': 'h1' }),
        readers: [cumulative, delta], views,
      });
      const mA = provA.getMeter('meter-one', '2.0.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });
      const mB = provA.getMeter('meter-two');
      const ints = mA.createCounter('requests', { description: 'Requests served', unit: '{request}', valueType: ValueType.INT });
      ints.add(3, { route: '/a', code: 200 });
      ints.add(4, { route: '/b', code: 500 });
      ints.add(2 ** 40, { route: '/big', code: 200 });
      mA.createCounter('bytes', { unit: 'By' }).add(1.5, { dir: 'rx' });
      mA.createUpDownCounter('inflight', { valueType: ValueType.INT }).add(-3, { pool: 'p' });
      mA.createGauge('temperature', { unit: 'Cel' }).record(21.75, { room: 'lab' });
      mB.createObservableGauge('queue.depth', { valueType: ValueType.INT }).addCallback((r) => r.observe(17, { q: 'main' }));
      const hist = mA.createHistogram('latency', { unit: 'ms' });
      for (const v of [0, 1, 4.5, 7, 12, 250, 99]) hist.record(v, { op: 'read' });
      hist.record(3, { op: 'write' });
      const exp = mB.createHistogram('latency.exp', { unit: 's' });
      for (const v of [0, 0.001, 0.5, 1, 2, 3.75, 1000]) exp.record(v, { kind: 'mixed' });

      // Second resource, its own provider.
      const other = new TestReader();
      const provB = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'metrics-b' }), readers: [other] });
      provB.getMeter('meter-three').createCounter('events').add(9);

      const cum = await cumulative.collect();
      const del = await delta.collect();
      const oth = await other.collect();
      for (const r of [cum, del, oth]) assert.deepEqual(r.errors, []);
      collected = [cum.resourceMetrics, del.resourceMetrics, oth.resourceMetrics];
      for (const rm of collected) {
        captures.push(await exportThree('metrics', rm, {
          proto: new MetricsProto({ url: `${httpCap.base}/v1/metrics` }),
          json: new MetricsJson({ url: `${httpCap.base}/v1/metrics` }),
          grpc: new MetricsGrpc({ url: grpcCap.url }),
        }));
      }
    });

    it('covers sum (monotonic/non-monotonic, int/double, cumulative and delta), gauge, histogram, exponential histogram', () => {
      const types = new Set<string>();
      for (const c of captures) {
        for (const p of placedMetrics(codecs.metrics.decodeRequest(c.proto))) {
          const m = p.item as { type: string; temporality?: number; monotonic?: boolean };
          types.add(`${m.type}/${m.temporality ?? '-'}/${m.monotonic ?? '-'}`);
        }
      }
      for (const t of ['sum/2/true', 'sum/1/true', 'sum/2/false', 'gauge/-/-', 'histogram/2/-', 'histogram/1/-', 'exponentialHistogram/2/-', 'exponentialHistogram/1/-']) {
        assert.ok(types.has(t), `missing ${t} in ${[...types].join(', ')}`);
      }
    });

    it('protobuf: every metric and data point equals the SDK ResourceMetrics (values, bounds, counts, sum/min/max, scale, offsets)', () => {
      for (let i = 0; i < collected.length; i++) {
        assertSamePlaced(placedMetrics(codecs.metrics.decodeRequest(captures[i].proto)), sdkPlacedMetrics([collected[i]]), `metrics request ${i}`);
      }
      // Sanity: the exponential histogram has a zero bucket, a negative offset and several
      // buckets (the SDK drops negative measurements, so negative buckets stay empty here; our
      // own round-trip tests cover them).
      const exp = placedMetrics(codecs.metrics.decodeRequest(captures[0].proto)).find((p) => p.item.name === 'latency.exp');
      const pt = (exp?.item.points as Array<{ zeroCount: string; positive: { offset: number; counts: string[] }; max: number }>)[0];
      assert.equal(pt.zeroCount, '1');
      assert.ok(pt.positive.offset < 0 && pt.positive.counts.length > 5, `positive buckets ${JSON.stringify(pt.positive)}`);
      assert.equal(pt.max, 1000);
    });

    it('JSON exporter output decoded by our JSON decoder equals the SDK ResourceMetrics too', () => {
      for (let i = 0; i < collected.length; i++) {
        assertSamePlaced(placedMetrics(codecs.metrics.decodeRequestJson(captures[i].json)), sdkPlacedMetrics([collected[i]]), `metrics JSON ${i}`);
      }
    });

    for (let i = 0; i < 3; i++) {
      describe(`request ${i}`, () => encodingChecks('metrics', () => captures[i]));
    }
  });

  // ---- logs -------------------------------------------------------------------------------------
  describe('logs', () => {
    let records: ReadableLogRecord[] = [];
    let captured: Captured;

    before(async () => {
      const memA = new InMemoryLogRecordExporter();
      const memB = new InMemoryLogRecordExporter();
      const provA = new LoggerProvider({
        resource: resourceFromAttributes({ 'service.name': 'logs-a', 'pid': 4242 }),
        processors: [new SimpleLogRecordProcessor({ exporter: memA })], logRecordLimits: { attributeCountLimit: 4 },
      });
      const provB = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': 'logs-b' }), processors: [new SimpleLogRecordProcessor({ exporter: memB })] });
      const la = provA.getLogger('log-one', '1.0.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0', attributes: { 'scope.attr': 'x', 'scope.n': 2 } });
      const lb = provA.getLogger('log-two');
      const lc = provB.getLogger('log-three', '3.0');
      const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 });
      const ts: [number, number] = [1_700_000_100, 555_666_777];
      la.emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'plain text ✓', timestamp: ts, observedTimestamp: [1_700_000_101, 1], context: ctx, attributes: { a: 1, b: 'two', c: true, d: 2.5, e: 'dropped', f: 'dropped' } });
      la.emit({
        severityNumber: SeverityNumber.ERROR2, body: { msg: 'structured', n: 3, ok: false, ratio: 0.75, list: [1, 'x', true, { deep: 'y' }], nested: { k: 'v', bin: new Uint8Array([0, 1, 254, 255]) } },
        timestamp: ts, attributes: { map: { inner: 1, arr: ['p', 'q'] }, raw: new Uint8Array([9, 8, 7]) },
      });
      la.emit({ eventName: 'app.started', severityNumber: SeverityNumber.WARN, body: ['a', 1, 2.5], timestamp: ts, context: ctx });
      lb.emit({ body: new Uint8Array([1, 2, 3]), timestamp: ts });
      lb.emit({ body: 12345, severityText: 'custom', timestamp: ts });
      lc.emit({ body: 'from b', severityNumber: SeverityNumber.FATAL4 });
      await Promise.all([provA.forceFlush(), provB.forceFlush()]);
      records = [...memA.getFinishedLogRecords(), ...memB.getFinishedLogRecords()];
      assert.equal(records.length, 6);
      captured = await exportThree('logs', records, {
        proto: new LogsProto({ url: `${httpCap.base}/v1/logs` }),
        json: new LogsJson({ url: `${httpCap.base}/v1/logs` }),
        grpc: new LogsGrpc({ url: grpcCap.url }),
      });
    });

    it('protobuf: every log record equals the SDK record (severity, body of every kind, attributes, trace/span ids, flags, event name, scope attributes)', () => {
      const decoded = codecs.logs.decodeRequest(captured.proto);
      assert.equal(decoded.resourceLogs.length, 2);
      assertSamePlaced(placedLogs(decoded), sdkPlacedLogs(records), 'logs');
      const first = records.find((r) => r.body === 'plain text ✓');
      assert.ok(first && first.droppedAttributesCount === 2, 'attribute limit hit');
      assert.ok(decoded.resourceLogs.some((rl) => rl.scopeLogs.some((sl) => (sl.scope?.attributes.length ?? 0) === 2)), 'scope attributes present');
    });

    it('JSON exporter output decoded by our JSON decoder equals the SDK records too', () => {
      assertSamePlaced(placedLogs(codecs.logs.decodeRequestJson(captured.json)), sdkPlacedLogs(records), 'logs (JSON)');
    });

    encodingChecks('logs', () => captured);
  });
});
