// The otlp receiver against real clients on loopback: the OpenTelemetry JS SDK exporters (gRPC,
// HTTP/protobuf, HTTP/JSON, gzip), a raw grpc-js client and raw node:http requests for the error
// paths. Every server listens on an ephemeral port.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { SpanKind as ApiSpanKind, type Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { OTLPTraceExporter as TraceGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as TraceHttpJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceHttpProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPMetricExporter as MetricGrpc } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as MetricHttpJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricHttpProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPLogExporter as LogGrpc } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as LogHttpJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogHttpProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import type { ComponentTelemetry, Consumer, Settings, SignalConsumers } from '../../pipeline/component';
import { readConfig } from '../../pipeline/config/schema';
import { PermanentError, RetryableError } from '../../pipeline/errors';
import { codecs, decodeStatus } from '../../pipeline/otlp/codec';
import { countItems, idToHex, type AnyValue, type KeyValue, type LogsData, type MetricsData, type Signal, type TracesData } from '../../pipeline/pdata';
import { otlpReceiverFactory } from '../../receivers/otlp';
import { RecordingTelemetry, testHost, testSettings } from '../helpers/component-harness';
import type { OtlpReceiver } from '../../receivers/otlp/receiver';

// ---- harness ---------------------------------------------------------------------------------

const host = testHost;
const settingsFor = (telemetry: ComponentTelemetry, id = 'otlp'): Settings => testSettings(telemetry, id, 'receiver');


/** Keeps what it receives; `fail` decides per call whether to refuse. */
class Sink<T> implements Consumer<T> {
  readonly received: T[] = [];
  fail: (() => Error | undefined) | undefined;
  gate: Promise<void> | undefined;
  async consume(data: T): Promise<void> {
    if (this.gate) await this.gate;
    const err = this.fail?.();
    if (err) throw err;
    this.received.push(data);
  }
}

interface Harness {
  receiver: OtlpReceiver;
  telemetry: RecordingTelemetry;
  traces: Sink<TracesData>;
  metrics: Sink<MetricsData>;
  logs: Sink<LogsData>;
  grpcAddr: string;
  httpAddr: string;
}

function readReceiverConfig(raw: unknown): unknown {
  const { value, issues } = readConfig(otlpReceiverFactory.config, raw);
  const errors = [...issues, ...(otlpReceiverFactory.validate?.(value) ?? [])].filter((i) => i.severity === 'error');
  assert.deepEqual(errors, []);
  return value;
}

const started: OtlpReceiver[] = [];

async function startReceiver(opts: { http?: Record<string, unknown>; grpc?: Record<string, unknown>; signals?: Signal[] } = {}): Promise<Harness> {
  const telemetry = new RecordingTelemetry();
  const traces = new Sink<TracesData>();
  const metrics = new Sink<MetricsData>();
  const logs = new Sink<LogsData>();
  const all: SignalConsumers = { traces, metrics, logs };
  const next: SignalConsumers = {};
  for (const s of opts.signals ?? ['traces', 'metrics', 'logs'] as Signal[]) (next as Record<string, unknown>)[s] = all[s];
  const config = readReceiverConfig({
    protocols: {
      grpc: { endpoint: '127.0.0.1:0', ...opts.grpc },
      http: { endpoint: '127.0.0.1:0', ...opts.http },
    },
  });
  const receiver = otlpReceiverFactory.create(settingsFor(telemetry), config, next) as OtlpReceiver;
  await receiver.start(host);
  started.push(receiver);
  return { receiver, telemetry, traces, metrics, logs, grpcAddr: receiver.grpcAddress()!, httpAddr: receiver.httpAddress()! };
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((r) => r.shutdown()));
});

// ---- helpers for reading pdata ---------------------------------------------------------------

function plain(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined && v.stringValue !== '') return v.stringValue;
  if (v.intValue !== undefined && v.intValue !== null && Number(v.intValue) !== 0) return Number(v.intValue);
  if (v.doubleValue) return v.doubleValue;
  if (v.boolValue) return v.boolValue;
  if (v.arrayValue) return v.arrayValue.values.map(plain);
  return v.stringValue ?? Number(v.intValue ?? 0);
}

function attrs(kvs: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((kvs ?? []).map((kv) => [kv.key, plain(kv.value)]));
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const resource = resourceFromAttributes({ 'service.name': 'sonde-test', 'host.name': 'node-1' });

// ---- raw clients -----------------------------------------------------------------------------

interface HttpAnswer { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

function post(addr: string, path: string, body: Buffer | string, headers: http.OutgoingHttpHeaders, method = 'POST'): Promise<HttpAnswer> {
  const [hostname, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface GrpcAnswer { err: grpc.ServiceError | null; value?: Buffer }

function grpcCall(addr: string, path: string, payload: Buffer, options: grpc.ChannelOptions = {}): Promise<GrpcAnswer> {
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), options);
  const id = (b: Buffer): Buffer => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, id, id, payload, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err, value) => {
      client.close();
      resolve({ err, value });
    });
  });
}

function sampleTraces(spans = 2): TracesData {
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'raw' } }] },
      scopeSpans: [{
        scope: { name: 'raw', attributes: [] },
        spans: Array.from({ length: spans }, (_, i) => ({
          traceId: randomBytes(16), spanId: randomBytes(8), name: `span-${i}`, attributes: [], events: [], links: [],
        })),
      }],
    }],
  };
}

const toBuf = (u8: Uint8Array): Buffer => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);

// ---- the SDK as a client ----------------------------------------------------------------------

type TraceExporterKind = 'grpc' | 'grpc+gzip' | 'http/protobuf' | 'http/protobuf+gzip' | 'http/json' | 'http/json+gzip';

function traceExporter(kind: TraceExporterKind, h: Harness): SpanExporter {
  const compression = kind.endsWith('+gzip') ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE;
  if (kind.startsWith('grpc')) return new TraceGrpc({ url: `http://${h.grpcAddr}`, compression });
  const url = `http://${h.httpAddr}/v1/traces`;
  return kind.startsWith('http/protobuf') ? new TraceHttpProto({ url, compression }) : new TraceHttpJson({ url, compression });
}

describe('otlp receiver', function () {
  this.timeout(20000);

  describe('with the OpenTelemetry JS SDK as the client', () => {
    for (const kind of ['grpc', 'grpc+gzip', 'http/protobuf', 'http/protobuf+gzip', 'http/json', 'http/json+gzip'] as const) {
      it(`receives spans over ${kind}`, async () => {
        const h = await startReceiver();
        const memory = new InMemorySpanExporter();
        const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(traceExporter(kind, h)), new SimpleSpanProcessor(memory)] });
        const tracer = provider.getTracer('sonde-test-scope', '1.2.3');
        const attributes: Attributes = { 'http.route': '/users/:id', 'http.status_code': 200, ok: true, ratio: 0.25, tags: ['a', 'b'] };
        tracer.startActiveSpan('parent', { kind: ApiSpanKind.SERVER, attributes }, (parent) => {
          tracer.startSpan('child', { kind: ApiSpanKind.CLIENT }).end();
          parent.addEvent('cache-miss', { key: 'k1' });
          parent.end();
        });
        await provider.forceFlush();
        await until(() => h.traces.received.reduce((n, t) => n + t.resourceSpans[0]!.scopeSpans[0]!.spans.length, 0) === 2, 'two spans');
        await provider.shutdown();

        const emitted = memory.getFinishedSpans();
        const got = h.traces.received.flatMap((t) => t.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((span) => ({ rs, ss, span })))));
        for (const want of emitted) {
          const match = got.find((g) => idToHex(g.span.spanId) === want.spanContext().spanId);
          assert.ok(match, `span ${want.name} arrived`);
          const { rs, ss, span } = match;
          assert.equal(idToHex(span.traceId), want.spanContext().traceId);
          assert.equal(span.name, want.name);
          assert.equal(span.kind, want.kind + 1, 'OTLP span kinds are the API kinds + 1');
          assert.equal(idToHex(span.parentSpanId), want.parentSpanContext?.spanId ?? '');
          assert.deepEqual(attrs(span.attributes), want.attributes);
          assert.equal(String(span.startTimeUnixNano), String(BigInt(want.startTime[0]) * 1_000_000_000n + BigInt(want.startTime[1])));
          assert.equal(ss.scope?.name, 'sonde-test-scope');
          assert.equal(ss.scope?.version, '1.2.3');
          assert.equal(attrs(rs.resource?.attributes)['service.name'], 'sonde-test');
          assert.equal(span.events.length, want.events.length);
          if (want.events.length) assert.deepEqual(attrs(span.events[0]!.attributes), { key: 'k1' });
        }
        assert.equal(h.telemetry.total('accepted', 'traces'), 2);
        assert.equal(h.telemetry.total('refused'), 0);
      });
    }

    for (const kind of ['grpc', 'http/protobuf', 'http/json+gzip'] as const) {
      it(`receives metrics over ${kind}`, async () => {
        const h = await startReceiver();
        const compression = kind.endsWith('+gzip') ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE;
        const url = `http://${h.httpAddr}/v1/metrics`;
        const exporter: PushMetricExporter = kind === 'grpc' ? new MetricGrpc({ url: `http://${h.grpcAddr}` })
          : kind === 'http/protobuf' ? new MetricHttpProto({ url, compression }) : new MetricHttpJson({ url, compression });
        const provider = new MeterProvider({ resource, readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 600_000 })] });
        const meter = provider.getMeter('sonde-meter');
        meter.createCounter('requests', { unit: '{request}', description: 'handled requests' }).add(5, { route: '/a' });
        meter.createCounter('requests', { unit: '{request}', description: 'handled requests' }).add(2, { route: '/b' });
        const hist = meter.createHistogram('latency', { unit: 'ms' });
        for (const v of [3, 7, 120]) hist.record(v, { route: '/a' });
        await provider.forceFlush();
        await until(() => h.metrics.received.length > 0, 'metrics');
        await provider.shutdown();

        const metrics = h.metrics.received.flatMap((m) => m.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics)));
        const counter = metrics.find((m) => m.name === 'requests');
        assert.ok(counter?.sum, 'the counter arrives as a sum');
        assert.equal(counter.unit, '{request}');
        assert.equal(counter.description, 'handled requests');
        assert.equal(counter.sum.isMonotonic, true);
        const byRoute = Object.fromEntries(counter.sum.dataPoints.map((dp) => [attrs(dp.attributes).route, dp.asDouble ?? Number(dp.asInt)]));
        assert.deepEqual(byRoute, { '/a': 5, '/b': 2 });
        const latency = metrics.find((m) => m.name === 'latency');
        assert.ok(latency?.histogram);
        const dp = latency.histogram.dataPoints[0]!;
        assert.equal(Number(dp.count), 3);
        assert.equal(dp.sum, 130);
        assert.equal(dp.min, 3);
        assert.equal(dp.max, 120);
        // Items are data points; shutdown() exported a second time.
        const points = h.metrics.received.reduce((n, m) => n + countItems('metrics', m), 0);
        assert.equal(points % 3, 0);
        assert.equal(h.telemetry.total('accepted', 'metrics'), points);
      });
    }

    for (const kind of ['grpc+gzip', 'http/protobuf', 'http/json'] as const) {
      it(`receives logs over ${kind}`, async () => {
        const h = await startReceiver();
        const url = `http://${h.httpAddr}/v1/logs`;
        const exporter: LogRecordExporter = kind === 'grpc+gzip' ? new LogGrpc({ url: `http://${h.grpcAddr}`, compression: CompressionAlgorithm.GZIP })
          : kind === 'http/protobuf' ? new LogHttpProto({ url }) : new LogHttpJson({ url });
        const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter })] });
        const logger = provider.getLogger('sonde-logger');
        logger.emit({ severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: 'disk almost full', attributes: { 'disk.free': 42 } });
        logger.emit({ severityNumber: SeverityNumber.INFO, body: { nested: 'map' }, timestamp: 1_700_000_000_123 });
        await provider.forceFlush();
        await until(() => h.logs.received.reduce((n, l) => n + l.resourceLogs[0]!.scopeLogs[0]!.logRecords.length, 0) === 2, 'two log records');
        await provider.shutdown();

        const records = h.logs.received.flatMap((l) => l.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
        const warn = records.find((r) => r.severityNumber === SeverityNumber.WARN);
        assert.ok(warn);
        assert.equal(warn.severityText, 'WARN');
        assert.equal(warn.body?.stringValue, 'disk almost full');
        assert.deepEqual(attrs(warn.attributes), { 'disk.free': 42 });
        const info = records.find((r) => r.severityNumber === SeverityNumber.INFO);
        assert.ok(info?.body?.kvlistValue);
        assert.deepEqual(attrs(info.body.kvlistValue.values), { nested: 'map' });
        assert.equal(String(info.timeUnixNano), '1700000000123000000');
        assert.equal(h.telemetry.total('accepted', 'logs'), 2);
      });
    }
  });

  describe('gRPC error paths', () => {
    const path = codecs.traces.grpcPath;

    it('answers INVALID_ARGUMENT to random bytes, and counts them', async () => {
      const h = await startReceiver();
      const { err } = await grpcCall(h.grpcAddr, path, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));
      assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /malformed|decode/i);
      assert.equal(h.traces.received.length, 0);
      assert.equal(h.telemetry.total('malformed_requests'), 1);
    });

    it('answers RESOURCE_EXHAUSTED to a message over max_recv_msg_size_mib', async () => {
      const h = await startReceiver({ grpc: { max_recv_msg_size_mib: 1 } });
      const { err } = await grpcCall(h.grpcAddr, path, randomBytes(1024 * 1024 + 10));
      assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
    });

    it('answers UNAVAILABLE with RetryInfo when the consumer refuses', async () => {
      const h = await startReceiver();
      h.traces.fail = () => new RetryableError('memory limit reached', { retryAfterMs: 2500 });
      const { err } = await grpcCall(h.grpcAddr, path, toBuf(codecs.traces.encodeRequest(sampleTraces(3))));
      assert.equal(err?.code, grpc.status.UNAVAILABLE);
      assert.match(err.details, /memory limit reached/);
      const details = err.metadata.get('grpc-status-details-bin')[0];
      assert.ok(Buffer.isBuffer(details), 'grpc-status-details-bin is present');
      const status = decodeStatus(details);
      assert.equal(status.code, grpc.status.UNAVAILABLE);
      assert.equal(status.retryAfterMs, 2500);
      assert.equal(h.telemetry.total('refused', 'traces'), 3);
      assert.equal(h.telemetry.total('accepted'), 0);
    });

    it('answers UNAVAILABLE without details for a plain failure, never INTERNAL', async () => {
      const h = await startReceiver();
      h.traces.fail = () => new Error('downstream exploded');
      const { err } = await grpcCall(h.grpcAddr, path, toBuf(codecs.traces.encodeRequest(sampleTraces())));
      assert.equal(err?.code, grpc.status.UNAVAILABLE);
      assert.equal(err.metadata.get('grpc-status-details-bin').length, 0);
    });

    it('answers INVALID_ARGUMENT when the consumer rejects permanently', async () => {
      const h = await startReceiver();
      h.traces.fail = () => new PermanentError('span too old');
      const { err } = await grpcCall(h.grpcAddr, path, toBuf(codecs.traces.encodeRequest(sampleTraces())));
      assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /span too old/);
      assert.equal(h.telemetry.total('refused', 'traces'), 2);
    });

    it('answers UNIMPLEMENTED for a signal it has no consumer for', async () => {
      const h = await startReceiver({ signals: ['traces'] });
      const { err } = await grpcCall(h.grpcAddr, codecs.logs.grpcPath, Buffer.alloc(0));
      assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
      const ok = await grpcCall(h.grpcAddr, path, Buffer.alloc(0));
      assert.equal(ok.err, null, 'an empty request is a valid, empty export');
    });
  });

  describe('HTTP error paths', () => {
    const proto = { 'Content-Type': 'application/x-protobuf' };

    it('answers 400 with a protobuf Status to random bytes', async () => {
      const h = await startReceiver();
      const res = await post(h.httpAddr, '/v1/traces', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), proto);
      assert.equal(res.status, 400);
      assert.equal(res.headers['content-type'], 'application/x-protobuf');
      const status = decodeStatus(res.body);
      assert.equal(status.code, 3);
      assert.match(status.message, /malformed|decode/i);
      assert.equal(h.telemetry.total('malformed_requests'), 1);
    });

    it('answers 400 with a JSON Status to malformed JSON', async () => {
      const h = await startReceiver();
      const res = await post(h.httpAddr, '/v1/logs', '{"resourceLogs": [', { 'Content-Type': 'application/json' });
      assert.equal(res.status, 400);
      assert.equal(res.headers['content-type'], 'application/json');
      const status = JSON.parse(res.body.toString()) as { code: number; message: string };
      assert.equal(status.code, 3);
      assert.ok(status.message.length > 0);
    });

    it('answers 415 to an unknown content type', async () => {
      const h = await startReceiver();
      const res = await post(h.httpAddr, '/v1/traces', 'hello', { 'Content-Type': 'text/plain' });
      assert.equal(res.status, 415);
      assert.match((JSON.parse(res.body.toString()) as { message: string }).message, /text\/plain/);
    });

    it('answers 413 to a body over max_request_body_size', async () => {
      const h = await startReceiver({ http: { max_request_body_size: 1000 } });
      const res = await post(h.httpAddr, '/v1/traces', randomBytes(5000), proto);
      assert.equal(res.status, 413);
      assert.match(decodeStatus(res.body).message, /max_request_body_size/);
    });

    it('answers 413 to a body over the limit sent without Content-Length', async () => {
      const h = await startReceiver({ http: { max_request_body_size: 1000 } });
      const res = await post(h.httpAddr, '/v1/traces', randomBytes(50_000), { ...proto, 'Transfer-Encoding': 'chunked' });
      assert.equal(res.status, 413);
    });

    it('refuses a gzip bomb without inflating it', async () => {
      const h = await startReceiver();
      // 512 MiB of zeros in about half a megabyte.
      const gz = zlib.createGzip({ level: 9 });
      const parts: Buffer[] = [];
      gz.on('data', (c: Buffer) => parts.push(c));
      const zeros = Buffer.alloc(16 * 1024 * 1024);
      for (let i = 0; i < 32; i++) gz.write(zeros);
      await new Promise<void>((resolve) => gz.end(resolve));
      const bomb = Buffer.concat(parts);
      assert.ok(bomb.length < 1024 * 1024);
      global.gc?.();
      const before = process.memoryUsage().arrayBuffers;
      const res = await post(h.httpAddr, '/v1/traces', bomb, { ...proto, 'Content-Encoding': 'gzip' });
      const grown = process.memoryUsage().arrayBuffers - before;
      assert.equal(res.status, 413);
      assert.match(decodeStatus(res.body).message, /decompressed/);
      assert.ok(grown < 100 * 1024 * 1024, `memory grew by ${grown} bytes`);
      assert.equal(h.traces.received.length, 0);
    });

    it('accepts deflate, and answers 400 to an unsupported or corrupt encoding', async () => {
      const h = await startReceiver();
      const body = toBuf(codecs.traces.encodeRequest(sampleTraces(1)));
      assert.equal((await post(h.httpAddr, '/v1/traces', zlib.deflateSync(body), { ...proto, 'Content-Encoding': 'deflate' })).status, 200);
      assert.equal((await post(h.httpAddr, '/v1/traces', body, { ...proto, 'Content-Encoding': 'br' })).status, 400);
      assert.equal((await post(h.httpAddr, '/v1/traces', body, { ...proto, 'Content-Encoding': 'gzip' })).status, 400);
      assert.equal(h.traces.received.length, 1);
    });

    it('answers 503 with Retry-After when the consumer refuses', async () => {
      const h = await startReceiver();
      h.traces.fail = () => new RetryableError('queue full', { retryAfterMs: 2500 });
      const res = await post(h.httpAddr, '/v1/traces', toBuf(codecs.traces.encodeRequest(sampleTraces(4))), proto);
      assert.equal(res.status, 503);
      assert.equal(res.headers['retry-after'], '3');
      const status = decodeStatus(res.body);
      assert.equal(status.code, 14);
      assert.match(status.message, /queue full/);
      assert.equal(h.telemetry.total('refused', 'traces'), 4);
      // A refusal without a known delay still tells the sender when to come back.
      h.traces.fail = () => new Error('downstream unavailable');
      const plain = await post(h.httpAddr, '/v1/traces', toBuf(codecs.traces.encodeRequest(sampleTraces(1))), proto);
      assert.equal(plain.status, 503);
      assert.equal(plain.headers['retry-after'], '1');
    });

    it('answers 400 in JSON when the consumer rejects a JSON request permanently', async () => {
      const h = await startReceiver();
      h.logs.fail = () => new PermanentError('bad record');
      const res = await post(h.httpAddr, '/v1/logs', codecs.logs.encodeRequestJson({ resourceLogs: [] }), { 'Content-Type': 'application/json; charset=utf-8' });
      assert.equal(res.status, 400);
      assert.match((JSON.parse(res.body.toString()) as { message: string }).message, /bad record/);
    });

    it('answers 200 with an empty Export response in the request encoding', async () => {
      const h = await startReceiver();
      const body = toBuf(codecs.metrics.encodeRequest({ resourceMetrics: [] }));
      const res = await post(h.httpAddr, '/v1/metrics', body, proto);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/x-protobuf');
      assert.deepEqual(codecs.metrics.decodeResponse(res.body), { rejected: 0, message: '' });
      const json = await post(h.httpAddr, '/v1/metrics', '{}', { 'Content-Type': 'application/json' });
      assert.equal(json.status, 200);
      assert.deepEqual(codecs.metrics.decodeResponseJson(json.body), { rejected: 0, message: '' });
    });

    it('answers 405 to GET, 404 to an unknown path and to a signal without consumer', async () => {
      const h = await startReceiver({ signals: ['traces'] });
      const get = await post(h.httpAddr, '/v1/traces', '', {}, 'GET');
      assert.equal(get.status, 405);
      assert.equal(get.headers.allow, 'POST');
      assert.equal((await post(h.httpAddr, '/v2/traces', 'x', proto)).status, 404);
      assert.equal((await post(h.httpAddr, '/v1/logs', 'x', proto)).status, 404);
    });

    it('serves custom url paths', async () => {
      const h = await startReceiver({ http: { traces_url_path: 'otlp/traces' } });
      const body = toBuf(codecs.traces.encodeRequest(sampleTraces(1)));
      assert.equal((await post(h.httpAddr, '/otlp/traces', body, proto)).status, 200);
      assert.equal((await post(h.httpAddr, '/v1/traces', body, proto)).status, 404);
    });

    it('answers CORS preflights for allowed origins only', async () => {
      const h = await startReceiver({ http: { cors: { allowed_origins: ['https://*.example.com'], max_age: 600 } } });
      const ok = await post(h.httpAddr, '/v1/traces', '', { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' }, 'OPTIONS');
      assert.equal(ok.status, 204);
      assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.equal(ok.headers['access-control-max-age'], '600');
      const no = await post(h.httpAddr, '/v1/traces', '', { Origin: 'https://evil.test', 'Access-Control-Request-Method': 'POST' }, 'OPTIONS');
      assert.equal(no.headers['access-control-allow-origin'], undefined);
      const body = toBuf(codecs.traces.encodeRequest(sampleTraces(1)));
      const real = await post(h.httpAddr, '/v1/traces', body, { ...proto, Origin: 'https://app.example.com' });
      assert.equal(real.status, 200);
      assert.equal(real.headers['access-control-allow-origin'], 'https://app.example.com');
    });
  });

  describe('lifecycle and config', () => {
    it('fails to start on a port in use, naming the endpoint, and leaves nothing listening', async () => {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const port = (blocker.address() as net.AddressInfo).port;
      try {
        for (const protocol of ['grpc', 'http'] as const) {
          const config = readReceiverConfig({ protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' }, [protocol]: { endpoint: `127.0.0.1:${port}` } } });
          const receiver = otlpReceiverFactory.create(settingsFor(new RecordingTelemetry(), 'otlp/edge'), config, { traces: new Sink() });
          await assert.rejects(receiver.start(host), (err: Error) => {
            assert.equal(err.message, `otlp/edge: listen tcp 127.0.0.1:${port}: bind: address already in use`);
            return true;
          });
          await receiver.shutdown();
        }
      } finally {
        blocker.close();
      }
    });

    it('shuts down safely twice and without start', async () => {
      const config = readReceiverConfig({ protocols: { grpc: null, http: null } });
      const idle = otlpReceiverFactory.create(settingsFor(new RecordingTelemetry()), config, {});
      await idle.shutdown();
      await idle.shutdown();
      const h = await startReceiver();
      await h.receiver.shutdown();
      await h.receiver.shutdown();
    });

    it('stops intake first, then lets requests in progress finish', async () => {
      const h = await startReceiver();
      let release!: () => void;
      h.traces.gate = new Promise((r) => { release = r; });
      const body = toBuf(codecs.traces.encodeRequest(sampleTraces(1)));
      const httpReq = post(h.httpAddr, '/v1/traces', body, { 'Content-Type': 'application/x-protobuf' });
      const grpcReq = grpcCall(h.grpcAddr, codecs.traces.grpcPath, body);
      await new Promise((r) => setTimeout(r, 200));
      const stopped = h.receiver.shutdown();
      await new Promise((r) => setTimeout(r, 100));
      await assert.rejects(post(h.httpAddr, '/v1/traces', body, { 'Content-Type': 'application/x-protobuf' }), /ECONNREFUSED/);
      release();
      assert.equal((await httpReq).status, 200);
      assert.equal((await grpcReq).err, null);
      await stopped;
      assert.equal(h.traces.received.length, 2);
    });

    it('reads `grpc:` with no value as enabled with defaults, and requires a protocol', () => {
      const { value } = readConfig(otlpReceiverFactory.config, { protocols: { grpc: null } });
      const v = value as { protocols: { grpc?: { endpoint: string; max_recv_msg_size_mib: number }; http?: unknown } };
      assert.equal(v.protocols.grpc?.endpoint, '127.0.0.1:4317');
      assert.equal(v.protocols.grpc?.max_recv_msg_size_mib, 4);
      assert.equal(v.protocols.http, undefined);
      const none = readConfig(otlpReceiverFactory.config, { protocols: {} }).value;
      assert.deepEqual(otlpReceiverFactory.validate?.(none).map((i) => i.message), ['must specify at least one protocol when using the OTLP receiver']);
    });

    it('warns about keepalive, and rejects bad endpoints and TLS without a key', () => {
      const { value, issues } = readConfig(otlpReceiverFactory.config, {
        protocols: { grpc: { endpoint: 'localhost', keepalive: { server_parameters: { time: '10s' } } }, http: { tls: { cert_file: 'c.pem' } } },
      });
      assert.deepEqual(issues.map((i) => [i.severity, i.path.join('.')]), [['warning', 'protocols.grpc.keepalive']]);
      const problems = otlpReceiverFactory.validate?.(value).map((i) => `${i.path.join('.')}: ${i.message}`);
      assert.deepEqual(problems, [
        'protocols.grpc.endpoint: expected host:port, got "localhost"',
        'protocols.http.tls: cert_file and key_file must be given together',
      ]);
    });
  });
});
