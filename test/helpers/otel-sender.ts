// A real OpenTelemetry JS application for end-to-end tests: it uses @opentelemetry/sdk-node with
// the SDK's own OTLP exporters to send spans, metrics or logs to Sonde, and writes what the SDK
// actually exported (in canonical form) to a file the test compares against Sonde's output.
//
// Env: SIGNAL=traces|metrics|logs  PROTOCOL=grpc|http/protobuf|http/json  ENDPOINT=http://127.0.0.1:P
//      COUNT=n  EXPECTED_OUT=/path/expected.json
import * as fs from 'node:fs';
import { context, trace, TraceFlags, SpanKind, SpanStatusCode, type SpanContext } from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import { ExportResultCode, TraceState, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter as LogGrpc } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as LogJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as MetricGrpc } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as MetricJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as TraceGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as TraceJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality, AggregationType, MeterProvider, PeriodicExportingMetricReader,
  type PushMetricExporter, type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { logsFromSdk, pointsFromSdk, spansFromSdk } from './canonical';

const SIGNAL = process.env.SIGNAL ?? 'traces';
const PROTOCOL = process.env.PROTOCOL ?? 'grpc';
const ENDPOINT = process.env.ENDPOINT ?? 'http://127.0.0.1:4317';
const COUNT = Number(process.env.COUNT ?? '100');
const OUT = process.env.EXPECTED_OUT ?? '/dev/null';

const expected: unknown[] = [];
const url = (path: string): string => (PROTOCOL === 'grpc' ? ENDPOINT : `${ENDPOINT}${path}`);
const timeoutMillis = 30_000;

/** Passes batches to the real exporter and keeps, in canonical form, those it exported. */
function tee<T>(exporter: { export(items: T, cb: (r: ExportResult) => void): void; shutdown(): Promise<void>; forceFlush?(): Promise<void> },
  canon: (items: T) => unknown[]): { export(items: T, cb: (r: ExportResult) => void): void; shutdown(): Promise<void>; forceFlush(): Promise<void> } {
  return {
    export(items, cb) {
      exporter.export(items, (r) => {
        if (r.code === ExportResultCode.SUCCESS) expected.push(...canon(items));
        else process.stderr.write(`sender: export failed: ${r.error?.message}\n`);
        cb(r);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

function spanExporter(): SpanExporter {
  const e = PROTOCOL === 'grpc' ? new TraceGrpc({ url: url(''), timeoutMillis })
    : PROTOCOL === 'http/json' ? new TraceJson({ url: url('/v1/traces'), timeoutMillis })
      : new TraceProto({ url: url('/v1/traces'), timeoutMillis });
  return tee<ReadableSpan[]>(e, spansFromSdk);
}

function metricExporter(temporality: AggregationTemporality): PushMetricExporter {
  const opts = { url: url('/v1/metrics'), timeoutMillis, temporalityPreference: temporality };
  const e = PROTOCOL === 'grpc' ? new MetricGrpc({ ...opts, url: url('') }) : PROTOCOL === 'http/json' ? new MetricJson(opts) : new MetricProto(opts);
  const t = tee<ResourceMetrics>(e, (rm) => pointsFromSdk([rm]));
  return { ...t, selectAggregationTemporality: e.selectAggregationTemporality?.bind(e) } as PushMetricExporter;
}

function logExporter(): LogRecordExporter {
  const e = PROTOCOL === 'grpc' ? new LogGrpc({ url: url(''), timeoutMillis })
    : PROTOCOL === 'http/json' ? new LogJson({ url: url('/v1/logs'), timeoutMillis })
      : new LogProto({ url: url('/v1/logs'), timeoutMillis });
  return tee<ReadableLogRecord[]>(e, logsFromSdk);
}

const resourceA = resourceFromAttributes({
  'service.name': 'checkout', 'service.version': '1.4.2', 'deployment.environment.name': 'test', 'host.name': 'node-a', 'process.pid': 4242,
});
const resourceB = resourceFromAttributes({ 'service.name': 'payments', 'k8s.namespace.name': 'shop', 'k8s.pod.name': 'payments-7f9c' });

const bsp = (): BatchSpanProcessor => new BatchSpanProcessor(spanExporter(), { maxQueueSize: COUNT + 1000, maxExportBatchSize: 500, scheduledDelayMillis: 20 });

async function sendTraces(): Promise<void> {
  const sdk = new NodeSDK({ resource: resourceA, resourceDetectors: [], instrumentations: [], spanProcessors: [bsp()] });
  sdk.start();
  const other = new BasicTracerProvider({ resource: resourceB, spanProcessors: [bsp()] });
  const tracers = [trace.getTracer('shop.checkout', '2.0.1'), trace.getTracer('shop.cart'), other.getTracer('pay.core', '0.9')];
  const remote: SpanContext = {
    traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED,
    traceState: new TraceState('vendor=abc,other=1'), isRemote: true,
  };
  let previous: SpanContext | undefined;
  for (let i = 0; i < COUNT; i++) {
    const tracer = tracers[i % tracers.length]!;
    // Every 10th span starts a trace under a remote parent; the others are its children.
    const parentCtx = i % 10 === 0 ? trace.setSpanContext(context.active(), remote) : context.active();
    const span = tracer.startSpan(`op-${i % 37}`, {
      kind: [SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER][i % 5],
      attributes: {
        'http.request.method': i % 2 ? 'GET' : 'POST', 'http.response.status_code': 200 + (i % 5), 'ratio': i / 7,
        'cache.hit': i % 3 === 0, 'tags': ['a', `t${i % 4}`], 'ints': [i, i + 1], 'doubles': [0.5, i + 0.25], 'empty.string': '',
        'unicode': 'héllo wörld ✓',
      },
      links: previous ? [{ context: previous, attributes: { 'link.kind': 'previous', 'n': i } }] : [],
    }, parentCtx);
    span.addEvent('cache.lookup', { 'cache.key': `k${i}`, 'size': i * 3 });
    if (i % 4 === 0) span.addEvent('retry');
    if (i % 6 === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: `failed ${i}` });
    else if (i % 6 === 1) span.setStatus({ code: SpanStatusCode.OK });
    previous = span.spanContext();
    span.end();
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  await other.shutdown();
  await sdk.shutdown();
}

async function sendMetrics(): Promise<void> {
  const views = [{ instrumentName: 'latency.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }];
  const reader = (t: AggregationTemporality): PeriodicExportingMetricReader =>
    new PeriodicExportingMetricReader({ exporter: metricExporter(t), exportIntervalMillis: 3_600_000 });
  const sdk = new NodeSDK({ resource: resourceA, resourceDetectors: [], instrumentations: [], metricReaders: [reader(AggregationTemporality.CUMULATIVE)], views });
  sdk.start();
  const other = new MeterProvider({ resource: resourceB, readers: [reader(AggregationTemporality.DELTA)], views });
  const { metrics } = await import('@opentelemetry/api');
  for (const [mp, scope] of [[metrics.getMeterProvider(), 'shop.metrics'], [other, 'pay.metrics']] as const) {
    const meter = mp.getMeter(scope, '1.0.0');
    const requests = meter.createCounter('http.server.requests', { description: 'Requests served', unit: '{request}' });
    const inflight = meter.createUpDownCounter('http.server.active_requests', { unit: '{request}' });
    const duration = meter.createHistogram('http.server.request.duration', { unit: 's', advice: { explicitBucketBoundaries: [0.005, 0.01, 0.05, 0.1, 0.5, 1] } });
    const exp = meter.createHistogram('latency.exp', { unit: 'ms' });
    const temperature = meter.createGauge('room.temperature', { unit: 'Cel' });
    const intCounter = meter.createCounter('bytes.sent', { unit: 'By' });
    meter.createObservableGauge('queue.depth').addCallback((r) => { r.observe(17, { queue: 'a' }); r.observe(3.5, { queue: 'b' }); });
    for (let i = 0; i < COUNT; i++) {
      const attrs = { route: `/r${i % 7}`, method: i % 2 ? 'GET' : 'POST' };
      requests.add(1, attrs);
      inflight.add(i % 3 === 0 ? -1 : 1, { route: `/r${i % 3}` });
      duration.record((i % 100) / 97, attrs);
      exp.record(0.1 + (i % 1000) * 1.37, { shard: String(i % 4) });
      temperature.record(20 + (i % 10) / 10, { room: `r${i % 2}` });
      intCounter.add(i, { peer: `p${i % 5}` });
    }
  }
  await other.shutdown();
  await sdk.shutdown();
}

async function sendLogs(): Promise<void> {
  const blrp = (): BatchLogRecordProcessor => new BatchLogRecordProcessor({ exporter: logExporter(), maxQueueSize: COUNT + 1000, maxExportBatchSize: 500, scheduledDelayMillis: 20 });
  const sdk = new NodeSDK({ resource: resourceA, resourceDetectors: [], instrumentations: [], logRecordProcessors: [blrp()] });
  sdk.start();
  const other = new LoggerProvider({ resource: resourceB, processors: [blrp()] });
  const loggers = [logs.getLogger('shop.log', '3.1'), other.getLogger('pay.log')];
  const spanCtx: SpanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };
  for (let i = 0; i < COUNT; i++) {
    const logger = loggers[i % 2]!;
    logger.emit({
      severityNumber: [SeverityNumber.DEBUG, SeverityNumber.INFO, SeverityNumber.WARN, SeverityNumber.ERROR][i % 4],
      severityText: ['DEBUG', 'INFO', 'WARN', 'ERROR'][i % 4],
      body: i % 3 === 0 ? { message: `structured ${i}`, fields: { n: i, ok: i % 2 === 0 }, list: [1, 'two', 3.5] } : `line ${i}: something happened`,
      attributes: { 'log.index': i, 'user.tier': i % 2 ? 'gold' : 'free', 'weights': [0.1, 0.2] },
      timestamp: Date.now(),
      ...(i % 5 === 0 ? { context: trace.setSpanContext(context.active(), spanCtx) } : {}),
      ...(i % 7 === 0 ? { eventName: 'checkout.completed' } : {}),
    });
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  await other.shutdown();
  await sdk.shutdown();
}

async function main(): Promise<void> {
  if (SIGNAL === 'traces') await sendTraces();
  else if (SIGNAL === 'metrics') await sendMetrics();
  else await sendLogs();
  fs.writeFileSync(OUT, JSON.stringify(expected));
  process.stdout.write(`sender: exported ${expected.length} ${SIGNAL} items over ${PROTOCOL}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`sender: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
