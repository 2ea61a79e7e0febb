// The jaeger exporter against real peers on loopback: a node:http server plays Jaeger's
// collector (/api/traces) and decodes every POST with the independent Thrift decoder
// (thrift-compiler-generated code over the npm thrift runtime); `sonde run` carries spans from
// the OpenTelemetry JS SDK to it; and in OTLP mode the exact requests are compared with what the
// otlphttp / otlp exporters send for the same batch.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import Long from 'long';
import { jaegerExporterFactory } from '../../exporters/jaeger';
import { otlpExporterFactory } from '../../exporters/otlp';
import { otlpHttpExporterFactory } from '../../exporters/otlphttp';
import type { Component, Consumer, ExporterFactory, SignalConsumers } from '../../pipeline/component';
import { readConfig } from '../../pipeline/config/schema';
import { Registry } from '../../pipeline/registry';
import { isPermanent } from '../../pipeline/errors';
import { codecs } from '../../pipeline/otlp/codec';
import { otlpGrpcRawServices } from '../../pipeline/otlp/grpc';
import type { KeyValue, Span, TracesData } from '../../pipeline/pdata';
import { decodeBatch, type PlainBatch, type PlainSpan, type PlainTag } from '../fixtures/jaeger/decoder';
import type { CanonSpan } from '../helpers/canonical';
import { RecordingTelemetry, testHost, testSettings } from '../helpers/component-harness';
import { runOtelSender } from '../helpers/run-otel-sender';
import { freePort, startSonde, tempDir, type SondeProcess } from '../helpers/sonde-process';

// ---- a Jaeger collector on an ephemeral port -------------------------------------------------

interface Post { path: string; headers: http.IncomingHttpHeaders; batch: PlainBatch }

class FakeCollector {
  readonly posts: Post[] = [];
  /** Bad requests the collector saw (wrong path, type or body): the test fails on any. */
  readonly problems: string[] = [];
  /** Decides the answer per POST (1-based); default 202 Accepted as Jaeger answers. */
  answer: (n: number, batch: PlainBatch) => { status: number; headers?: Record<string, string>; body?: string } = () => ({ status: 202 });
  private calls = 0;
  private server: http.Server | undefined;
  url = '';

  async start(port = 0): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const n = ++this.calls;
        try {
          if (req.method !== 'POST' || req.url !== '/api/traces') throw new Error(`${req.method} ${req.url}`);
          if (req.headers['content-type'] !== 'application/x-thrift') throw new Error(`content-type ${req.headers['content-type']}`);
          let body = Buffer.concat(chunks);
          if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
          const batch = decodeBatch(body);
          const a = this.answer(n, batch);
          if (a.status >= 200 && a.status < 300) this.posts.push({ path: req.url, headers: req.headers, batch });
          res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
          res.end(a.body ?? '');
        } catch (err) {
          this.problems.push(String(err));
          res.writeHead(400, { 'content-type': 'text/plain' });
          res.end(`bad request: ${String(err)}`);
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}/api/traces`;
  }

  spans(): PlainSpan[] {
    return this.posts.flatMap((p) => p.batch.spans);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

// ---- harness ---------------------------------------------------------------------------------

type Exporter = Component & { consumers: SignalConsumers };
const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function collector(): Promise<FakeCollector> {
  const c = new FakeCollector();
  await c.start();
  cleanup.push(() => c.stop());
  return c;
}

async function startExporter(factory: ExporterFactory, raw: Record<string, unknown>, id = factory.type): Promise<{ exporter: Exporter; telemetry: RecordingTelemetry }> {
  const telemetry = new RecordingTelemetry();
  const { value, issues } = readConfig(factory.config, raw);
  assert.deepEqual([...issues, ...(factory.validate?.(value) ?? [])].filter((i) => i.severity === 'error'), []);
  const exporter = factory.create(testSettings(telemetry, id, 'exporter'), value, ['traces']);
  await exporter.start(testHost);
  cleanup.push(() => exporter.shutdown());
  return { exporter, telemetry };
}

function consume(exporter: Exporter, data: TracesData): Promise<void> {
  return (exporter.consumers.traces as Consumer<TracesData>).consume(data);
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const noQueue = { sending_queue: { enabled: false } };
const fastRetry = { retry_on_failure: { initial_interval: '20ms', max_interval: '100ms', max_elapsed_time: '20s' } };
const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
const t0 = Long.fromString('1700000000123456789', true);

function span(name: string, extra: Partial<Span> = {}): Span {
  return {
    traceId: randomBytes(16), spanId: randomBytes(8), name, kind: 2, startTimeUnixNano: t0, endTimeUnixNano: t0.add(5_000_000),
    attributes: [str('a', name), { key: 'n', value: { intValue: Long.fromNumber(7) } }],
    events: [{ timeUnixNano: t0.add(1000), name: 'ev', attributes: [] }], links: [], ...extra,
  };
}

/** Two resources (two Batches), three scopes, five spans. */
function traces(): TracesData {
  return {
    resourceSpans: [
      { resource: { attributes: [str('service.name', 'checkout'), str('host.name', 'a')] }, scopeSpans: [
        { scope: { name: 'http', version: '1', attributes: [] }, spans: [span('c1'), span('c2', { parentSpanId: randomBytes(8), status: { code: 2, message: 'boom' } })] },
        { scope: { name: 'db', attributes: [] }, spans: [span('c3', { kind: 3 })] },
      ] },
      { resource: { attributes: [str('service.name', 'payments')] }, scopeSpans: [{ scope: { name: 'pay', attributes: [] }, spans: [span('p1', { links: [{ traceId: randomBytes(16), spanId: randomBytes(8), attributes: [str('l1', 'x'), str('l2', 'y')] }] }), span('p2')] }] },
    ],
  };
}

const tagMap = (tags: PlainTag[] | null): Record<string, PlainTag['value']> => Object.fromEntries((tags ?? []).map((t) => [t.key, t.value]));

// ---- thrift_http, exporter level --------------------------------------------------------------

describe('jaeger exporter: Thrift over HTTP to a Jaeger collector', function () {
  this.timeout(60_000);

  it('one POST per resource: Content-Type application/x-thrift, /api/traces, headers, every span decoded', async () => {
    const c = await collector();
    const { exporter, telemetry } = await startExporter(jaegerExporterFactory, { endpoint: c.url.replace('/api/traces', ''), headers: { 'X-Tenant': 'blue' }, ...noQueue });
    const data = traces();
    await consume(exporter, data);
    assert.deepEqual(c.problems, []);
    assert.equal(c.posts.length, 2);
    const byService = Object.fromEntries(c.posts.map((p) => [p.batch.process.serviceName, p]));
    assert.deepEqual(Object.keys(byService).sort(), ['checkout', 'payments']);
    assert.deepEqual(byService['checkout']!.batch.process.tags, [{ key: 'host.name', type: 'STRING', value: 'a' }]);
    assert.equal(byService['checkout']!.headers['x-tenant'], 'blue');
    assert.equal(byService['checkout']!.headers['user-agent'], 'sonde/test');
    assert.equal(byService['checkout']!.headers['content-encoding'], undefined, 'no compression by default for Thrift');
    const want = data.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ id: Buffer.from(s.spanId!).toString('hex'), trace: Buffer.from(s.traceId!).toString('hex'), name: s.name }))));
    const got = c.spans().map((s) => ({ id: s.spanId, trace: s.traceId, name: s.operationName }));
    assert.deepEqual(got.sort((a, b) => a.id.localeCompare(b.id)), want.sort((a, b) => a.id.localeCompare(b.id)));
    const c2 = c.spans().find((s) => s.operationName === 'c2')!;
    assert.deepEqual(tagMap(c2.tags), { 'a': 'c2', 'n': '7', 'otel.scope.name': 'http', 'otel.scope.version': '1', 'otel.library.name': 'http', 'otel.library.version': '1', 'span.kind': 'server', 'otel.status_code': 'ERROR', 'otel.status_description': 'boom', 'error': true });
    assert.equal(c2.references?.[0]?.refType, 'CHILD_OF');
    assert.equal(telemetry.total('sent', 'traces'), 5);
    // p1's link attributes have no place in a Thrift SpanRef: counted.
    assert.deepEqual(c.spans().find((x) => x.operationName === 'p1')!.references?.map((r) => r.refType), ['FOLLOWS_FROM']);
    assert.equal(telemetry.countOf('jaeger_link_attributes_dropped'), 2);
  });

  it('resource groups with the same resource (as a batch processor appends them) go out as one Batch', async () => {
    const c = await collector();
    const { exporter, telemetry } = await startExporter(jaegerExporterFactory, { endpoint: c.url, ...noQueue });
    const data: TracesData = { resourceSpans: [...traces().resourceSpans, ...traces().resourceSpans, { resource: { attributes: [str('service.name', 'empty')] }, scopeSpans: [{ spans: [] }] }] };
    await consume(exporter, data);
    assert.deepEqual(c.problems, []);
    assert.deepEqual(c.posts.map((p) => [p.batch.process.serviceName, p.batch.spans.length]).sort(), [['checkout', 6], ['payments', 4]]);
    assert.equal(telemetry.total('sent', 'traces'), 10);
  });

  it('gzip when asked: the collector gunzips to the same Batch', async () => {
    const c = await collector();
    const { exporter } = await startExporter(jaegerExporterFactory, { endpoint: c.url, compression: 'gzip', ...noQueue });
    await consume(exporter, traces());
    assert.deepEqual(c.problems, []);
    assert.deepEqual(c.posts.map((p) => p.headers['content-encoding']), ['gzip', 'gzip']);
    assert.equal(c.spans().length, 5);
  });

  it('503 with Retry-After, then 202: retried, delivered once, groups already delivered are not sent again', async () => {
    const c = await collector();
    const seen: string[] = [];
    // The payments Batch is refused once; checkout is accepted at once and must not come twice.
    c.answer = (_n, batch) => {
      seen.push(batch.process.serviceName);
      return batch.process.serviceName === 'payments' && seen.filter((s) => s === 'payments').length === 1 ? { status: 503, headers: { 'retry-after': '1' }, body: 'busy' } : { status: 202 };
    };
    const { exporter, telemetry } = await startExporter(jaegerExporterFactory, { endpoint: c.url, ...noQueue, ...fastRetry });
    const started = Date.now();
    await consume(exporter, traces());
    assert.ok(Date.now() - started >= 900, 'Retry-After: 1 was honoured');
    assert.deepEqual(seen.sort(), ['checkout', 'payments', 'payments']);
    assert.equal(c.spans().length, 5);
    assert.equal(new Set(c.spans().map((s) => s.spanId)).size, 5);
    assert.equal(telemetry.total('sent', 'traces'), 5);
    assert.equal(telemetry.total('dropped', 'traces'), 0);
    assert.equal(telemetry.countOf('jaeger_link_attributes_dropped'), 2, 'counted once, not per attempt');
  });

  it('connection refused is retryable: delivered once the collector is up', async () => {
    const port = await freePort();
    const { exporter, telemetry } = await startExporter(jaegerExporterFactory, { endpoint: `http://127.0.0.1:${port}/api/traces`, ...fastRetry });
    await consume(exporter, traces()); // queued
    await new Promise((r) => setTimeout(r, 300));
    // The collector comes up on the port the exporter has been failing to reach.
    const c = new FakeCollector();
    await c.start(port);
    cleanup.push(() => c.stop());
    await until('5 spans at the collector', () => c.spans().length === 5);
    await until('sent counted', () => telemetry.total('sent', 'traces') === 5);
    assert.equal(telemetry.total('dropped', 'traces'), 0);
  });

  it('400 is permanent: not retried, the caller gets PermanentError and the spans are counted as failed', async () => {
    const c = await collector();
    c.answer = () => ({ status: 400, body: 'Unable to process request body: bad' });
    const { exporter, telemetry } = await startExporter(jaegerExporterFactory, { endpoint: c.url, ...noQueue, ...fastRetry });
    const err = await consume(exporter, traces()).then(() => undefined, (e: unknown) => e);
    assert.ok(isPermanent(err), String(err));
    assert.match(String(err), /HTTP 400 Bad Request: Unable to process request body: bad/);
    assert.match(String(err), /^PermanentError: jaeger: export traces:/);
    assert.deepEqual(c.problems, []);
    assert.equal(c.posts.length, 0);
    assert.equal(telemetry.total('failed', 'traces'), 5);
  });

  it('400 with the sending queue: dropped{permanent_error}; a 400 for one resource only: the rest sent, that one dropped{rejected_by_backend}', async () => {
    const c = await collector();
    c.answer = (_n, batch) => (batch.process.serviceName === 'payments' ? { status: 400, body: 'no' } : { status: 202 });
    const { exporter, telemetry } = await startExporter(jaegerExporterFactory, { endpoint: c.url, ...fastRetry });
    await consume(exporter, traces());
    await until('the batch settled', () => telemetry.total('sent', 'traces') + telemetry.total('dropped', 'traces') === 5);
    assert.equal(telemetry.total('sent', 'traces'), 3);
    assert.deepEqual(telemetry.calls.filter((x) => x.what === 'dropped').map((x) => [x.reason, x.items]), [['rejected_by_backend', 2]]);

    c.answer = () => ({ status: 400, body: 'no' });
    await consume(exporter, traces());
    await until('the second batch settled', () => telemetry.total('dropped', 'traces') === 7);
    assert.deepEqual(telemetry.calls.filter((x) => x.what === 'dropped').map((x) => [x.reason, x.items]), [['rejected_by_backend', 2], ['permanent_error', 5]]);
    assert.equal(c.spans().length, 3);
  });

  it('413 and 500 are permanent too (but Jaeger\'s 500 "Cannot submit Jaeger batch"); 429, 502, 504 are retried', async () => {
    for (const status of [413, 500]) {
      const c = await collector();
      c.answer = () => ({ status });
      const { exporter } = await startExporter(jaegerExporterFactory, { endpoint: c.url, ...noQueue, ...fastRetry }, `jaeger/${status}`);
      const err = await consume(exporter, traces()).then(() => undefined, (e: unknown) => e);
      assert.ok(isPermanent(err), `${status}: ${String(err)}`);
    }
    // Jaeger's own answer when its pipeline refused a good batch (busy): retried, not dropped.
    const busy = await collector();
    busy.answer = (n) => (n <= 2 ? { status: 500, body: 'Cannot submit Jaeger batch: server busy\n' } : { status: 202 });
    const { exporter: e500 } = await startExporter(jaegerExporterFactory, { endpoint: busy.url, ...noQueue, ...fastRetry }, 'jaeger/busy');
    await consume(e500, traces());
    assert.equal(busy.spans().length, 5);
    for (const status of [429, 502, 504]) {
      const c = await collector();
      c.answer = (n) => (n <= 2 ? { status } : { status: 202 });
      const { exporter } = await startExporter(jaegerExporterFactory, { endpoint: c.url, ...noQueue, ...fastRetry }, `jaeger/${status}`);
      await consume(exporter, traces());
      assert.equal(c.spans().length, 5, `${status}`);
    }
  });

  it('timeout: a collector that never answers is a retryable timeout error', async () => {
    const hung = http.createServer(() => { /* never answers */ });
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => { hung.closeAllConnections(); hung.close(() => resolve()); }));
    const url = `http://127.0.0.1:${(hung.address() as net.AddressInfo).port}/api/traces`;
    const { exporter, telemetry } = await startExporter(jaegerExporterFactory, { endpoint: url, timeout: '200ms', retry_on_failure: { enabled: false }, ...noQueue });
    const err = await consume(exporter, traces()).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof Error && !isPermanent(err), String(err));
    assert.match(String(err), /timeout after 200ms/);
    assert.equal(telemetry.total('failed', 'traces'), 5);
  });

  it('https with tls.ca_file: delivered; an unknown CA is a (retryable) TLS failure', async function () {
    this.timeout(60_000);
    const dir = tempDir('sonde-jaeger-tls-');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem')], { stdio: 'pipe' });
    const got: PlainBatch[] = [];
    const server = https.createServer({ key: fs.readFileSync(path.join(dir, 'k.pem')), cert: fs.readFileSync(path.join(dir, 'c.pem')) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => { got.push(decodeBatch(Buffer.concat(chunks))); res.writeHead(202); res.end(); });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
    const url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}/api/traces`;
    const { exporter } = await startExporter(jaegerExporterFactory, { endpoint: url, tls: { ca_file: path.join(dir, 'c.pem') }, ...noQueue });
    await consume(exporter, traces());
    assert.equal(got.flatMap((b) => b.spans).length, 5);
    const { exporter: untrusted } = await startExporter(jaegerExporterFactory, { endpoint: url, retry_on_failure: { enabled: false }, ...noQueue }, 'jaeger/untrusted');
    const err = await consume(untrusted, traces()).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof Error && !isPermanent(err), String(err));
    assert.match(String(err), /self-signed|SELF_SIGNED/i);
  });

  it('config: a bad endpoint names the key; otlp_grpc wants host:port', () => {
    const check = (raw: Record<string, unknown>): string[] => {
      const { value, issues } = readConfig(jaegerExporterFactory.config, raw);
      return [...issues, ...(jaegerExporterFactory.validate?.(value) ?? [])].filter((i) => i.severity === 'error').map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    const hint = ' (for Jaeger\'s Thrift collector write http://host:14268/api/traces; for host:port use protocol: otlp_grpc and Jaeger\'s OTLP port 4317)';
    assert.deepEqual(check({ endpoint: 'jaeger:14250' }), [`endpoint: expected an http:// or https:// URL, got "jaeger:14250"${hint}`]);
    assert.deepEqual(check({ endpoint: '127.0.0.1:14250' }), [`endpoint: expected an http:// or https:// URL, got "127.0.0.1:14250"${hint}`]);
    assert.deepEqual(check({ protocol: 'otlp_http', endpoint: 'ftp://x/' }), ['endpoint: expected an http:// or https:// URL, got "ftp://x/"']);
    // The Collector's Thrift-over-HTTP exporter names load, with a deprecation warning.
    const registry = new Registry([jaegerExporterFactory]);
    assert.deepEqual(['jaeger', 'jaeger_thrift', 'jaeger_thrift_http'].map((t) => registry.lookup('exporter', t)?.deprecated), [false, true, true]);
    assert.deepEqual(check({ protocol: 'otlp_grpc', endpoint: 'http://jaeger:4317/x/y' }), ['endpoint: expected host:port (optionally with http:// or https://), got "http://jaeger:4317/x/y"']);
    assert.deepEqual(check({ protocol: 'thrift' }).map((m) => m.replace(/ \(did you mean.*/, '')), ['protocol: expected one of thrift_http, otlp_grpc, otlp_http, got "thrift"']);
    assert.deepEqual(check({}), []);
  });
});

// ---- OTLP mode: the same requests as the otlp exporters ---------------------------------------

interface Captured { method: string; path: string; headers: Record<string, string | string[] | undefined>; body: string }

/** A raw HTTP server that records every request and answers an empty OTLP success. */
async function httpCapture(): Promise<{ url: string; requests: Captured[] }> {
  const requests: Captured[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { host: _host, ...headers } = req.headers;
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers, body: Buffer.concat(chunks).toString('hex') });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(Buffer.from(codecs.traces.encodeResponse()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, requests };
}

/** A grpc-js server with the raw OTLP trace service: records request bytes and metadata. */
async function grpcCapture(): Promise<{ address: string; requests: { metadata: Record<string, unknown>; body: string }[] }> {
  const requests: { metadata: Record<string, unknown>; body: string }[] = [];
  const server = new grpc.Server();
  server.addService(otlpGrpcRawServices.traces, {
    Export: (call: grpc.ServerUnaryCall<Uint8Array, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const md = { ...call.metadata.getMap() };
      requests.push({ metadata: md, body: Buffer.from(call.request).toString('hex') });
      cb(null, { rejected: 0, message: '' });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  cleanup.push(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
  return { address: `127.0.0.1:${port}`, requests };
}

describe('jaeger exporter: OTLP mode sends what the otlp exporters send', function () {
  this.timeout(60_000);

  for (const compression of ['gzip', 'none']) {
    it(`otlp_http vs otlphttp (compression ${compression}): byte-identical requests`, async () => {
      const data = traces();
      const a = await httpCapture();
      const b = await httpCapture();
      const common = { headers: { 'x-scope-orgid': 'acme' }, compression, ...noQueue };
      const { exporter: jaeger } = await startExporter(jaegerExporterFactory, { protocol: 'otlp_http', endpoint: a.url, ...common });
      const { exporter: otlp } = await startExporter(otlpHttpExporterFactory, { endpoint: b.url, ...common });
      await consume(jaeger, data);
      await consume(otlp, data);
      assert.equal(a.requests.length, 1);
      assert.equal(a.requests[0]!.path, '/v1/traces');
      assert.deepEqual(a.requests, b.requests);
      // And it is the batch: decoded back, the same spans.
      const body = Buffer.from(a.requests[0]!.body, 'hex');
      const decoded = codecs.traces.decodeRequest(compression === 'gzip' ? zlib.gunzipSync(body) : body);
      assert.deepEqual(JSON.parse(codecs.traces.encodeRequestJson(decoded)), JSON.parse(codecs.traces.encodeRequestJson(data)));
    });
  }

  it('otlp_grpc vs otlp: identical request bytes and metadata', async () => {
    const data = traces();
    const a = await grpcCapture();
    const b = await grpcCapture();
    const common = { headers: { 'x-scope-orgid': 'acme' }, tls: { insecure: true }, ...noQueue };
    const { exporter: jaeger } = await startExporter(jaegerExporterFactory, { protocol: 'otlp_grpc', endpoint: a.address, ...common });
    const { exporter: otlp } = await startExporter(otlpExporterFactory, { endpoint: b.address, ...common });
    await consume(jaeger, data);
    await consume(otlp, data);
    assert.equal(a.requests.length, 1);
    assert.deepEqual(a.requests, b.requests);
    assert.equal(a.requests[0]!.metadata['x-scope-orgid'], 'acme');
    assert.deepEqual(JSON.parse(codecs.traces.encodeRequestJson(codecs.traces.decodeRequest(Buffer.from(a.requests[0]!.body, 'hex')))), JSON.parse(codecs.traces.encodeRequestJson(data)));
  });
});

// ---- end to end: OTel JS SDK -> sonde run (otlp receiver -> jaeger) -> collector -------------

/** What the spec says a span the SDK exported becomes in Jaeger, built from its canonical form. */
function expectedJaeger(c: CanonSpan): { process: { serviceName: string; tags: PlainTag[] }; span: Omit<PlainSpan, 'tags' | 'logs'> & { tags: PlainTag[]; logs: { timestamp: string; fields: PlainTag[] }[] } } {
  const tagOf = (key: string, v: unknown): PlainTag => {
    if (typeof v === 'string') return { key, type: 'STRING', value: v };
    if (typeof v === 'boolean') return { key, type: 'BOOL', value: v };
    if (typeof v === 'number') return Number.isInteger(v) ? { key, type: 'LONG', value: String(v) } : { key, type: 'DOUBLE', value: v };
    return { key, type: 'STRING', value: JSON.stringify(v) };
  };
  const sorted = (tags: PlainTag[]): PlainTag[] => tags.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const at = c.scope.lastIndexOf('@');
  const [scopeName, scopeVersion] = [c.scope.slice(0, at), c.scope.slice(at + 1)];
  const tags = Object.entries(c.attributes).map(([k, v]) => tagOf(k, v));
  if (scopeName) tags.push(tagOf('otel.scope.name', scopeName), tagOf('otel.library.name', scopeName));
  if (scopeVersion) tags.push(tagOf('otel.scope.version', scopeVersion), tagOf('otel.library.version', scopeVersion));
  const kind = ['', '', 'server', 'client', 'producer', 'consumer'][c.kind];
  if (kind) tags.push(tagOf('span.kind', kind));
  if (c.status.code === 1 || c.status.code === 2) {
    tags.push(tagOf('otel.status_code', c.status.code === 1 ? 'OK' : 'ERROR'));
    if (c.status.message) tags.push(tagOf('otel.status_description', c.status.message));
    if (c.status.code === 2) tags.push(tagOf('error', true));
  }
  if (c.traceState) tags.push(tagOf('w3c.tracestate', c.traceState));
  const us = (n: string): string => (BigInt(n) / 1000n).toString();
  const refs = [
    ...(c.parentSpanId ? [{ refType: 'CHILD_OF' as const, traceIdHigh: c.traceId.slice(0, 16), traceIdLow: c.traceId.slice(16), spanId: c.parentSpanId }] : []),
    ...c.links.map((l) => ({ refType: 'FOLLOWS_FROM' as const, traceIdHigh: l.traceId.slice(0, 16), traceIdLow: l.traceId.slice(16), spanId: l.spanId })),
  ];
  const { 'service.name': service, ...rest } = c.resource;
  return {
    process: { serviceName: String(service), tags: sorted(Object.entries(rest).map(([k, v]) => tagOf(k, v))) },
    span: {
      traceId: c.traceId, traceIdHigh: c.traceId.slice(0, 16), traceIdLow: c.traceId.slice(16), spanId: c.spanId,
      parentSpanId: c.parentSpanId || '0000000000000000', operationName: c.name, references: refs.length ? refs : null,
      flags: c.flags & 1, startTime: us(c.start), duration: ((BigInt(c.end) - BigInt(c.start)) / 1000n).toString(),
      tags: sorted(tags),
      logs: c.events.map((e) => ({ timestamp: us(e.time), fields: sorted([...(e.name ? [tagOf('event', e.name)] : []), ...Object.entries(e.attributes).map(([k, v]) => tagOf(k, v))]) })),
      incomplete: null,
    },
  };
}


describe('e2e: OTel SDK -> sonde run (otlp -> batch -> jaeger) -> Jaeger collector', function () {
  this.timeout(180_000);
  let sonde: SondeProcess | undefined;
  afterEach(async () => { await sonde?.stop('SIGKILL'); sonde = undefined; });

  it('every span arrives exactly once, mapped as the spec says', async () => {
    const COUNT = 1500;
    const c = await collector();
    const grpcPort = await freePort();
    const dir = tempDir();
    sonde = await startSonde(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${grpcPort} }
processors:
  batch: { timeout: 50ms }
exporters:
  jaeger:
    endpoint: ${c.url}
    retry_on_failure: { initial_interval: 50ms, max_interval: 200ms }
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [jaeger] }
`, { dir });
    const expectedFile = path.join(dir, 'expected.json');
    await runOtelSender({ SIGNAL: 'traces', PROTOCOL: 'grpc', ENDPOINT: `http://127.0.0.1:${grpcPort}`, COUNT: String(COUNT), EXPECTED_OUT: expectedFile });
    const expected = JSON.parse(fs.readFileSync(expectedFile, 'utf8')) as CanonSpan[];
    assert.equal(expected.length, COUNT);
    await until(`${COUNT} spans at the collector`, () => c.spans().length >= COUNT, 60_000);
    await new Promise((r) => setTimeout(r, 300)); // nothing more may come
    assert.deepEqual(c.problems, []);
    const got = new Map<string, { span: PlainSpan; service: string; processTags: PlainTag[] }>();
    for (const p of c.posts) {
      for (const s of p.batch.spans) {
        assert.ok(!got.has(s.spanId), `span ${s.spanId} arrived twice`);
        got.set(s.spanId, { span: s, service: p.batch.process.serviceName, processTags: p.batch.process.tags ?? [] });
      }
    }
    assert.equal(got.size, COUNT);
    const sortTags = (t: PlainTag[] | null): PlainTag[] => [...(t ?? [])].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    for (const e of expected) {
      const want = expectedJaeger(e);
      const g = got.get(e.spanId);
      assert.ok(g, `span ${e.spanId} (${e.name}) missing`);
      assert.deepEqual({ service: g.service, tags: sortTags(g.processTags) }, { service: want.process.serviceName, tags: want.process.tags });
      assert.deepEqual({ ...g.span, tags: sortTags(g.span.tags), logs: (g.span.logs ?? []).map((l) => ({ timestamp: l.timestamp, fields: sortTags(l.fields) })) }, want.span);
    }
    assert.deepEqual([...new Set(c.posts.map((p) => p.batch.process.serviceName))].sort(), ['checkout', 'payments']);
  });
});
