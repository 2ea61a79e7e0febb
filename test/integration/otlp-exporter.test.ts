// The otlp (gRPC) and otlphttp exporters against Sonde's otlp receiver on loopback (and, where a
// backend must answer something the receiver never says, a grpc-js or node:http server), with
// TLS certificates made by openssl for the run.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import Long from 'long';
import type { Component, ComponentTelemetry, Consumer, ExporterFactory, Settings, SignalConsumers } from '../../pipeline/component';
import { readConfig } from '../../pipeline/config/schema';
import { isPermanent, PermanentError, RetryableError, retryAfterMs } from '../../pipeline/errors';
import { codecs, encodeStatus } from '../../pipeline/otlp/codec';
import { otlpGrpcRawServices, type ExportResponse } from '../../pipeline/otlp/grpc';
import { countItems, type LogsData, type MetricsData, type Signal, type SignalData, type TracesData } from '../../pipeline/pdata';
import { otlpExporterFactory } from '../../exporters/otlp';
import { otlpHttpExporterFactory } from '../../exporters/otlphttp';
import { retryAfter } from '../../pipeline/otlp/http-transport';
import { otlpReceiverFactory } from '../../receivers/otlp';
import type { OtlpReceiver } from '../../receivers/otlp/receiver';
import { RecordingTelemetry, testHost, testSettings } from '../helpers/component-harness';

// ---- harness ---------------------------------------------------------------------------------

const host = testHost;
const settingsFor = (telemetry: ComponentTelemetry, id: string, kind: 'receiver' | 'exporter'): Settings => testSettings(telemetry, id, kind);


function readChecked(factory: { config: ExporterFactory['config']; validate?: ExporterFactory['validate'] }, raw: unknown): unknown {
  const { value, issues } = readConfig(factory.config, raw);
  const errors = [...issues, ...(factory.validate?.(value) ?? [])].filter((i) => i.severity === 'error');
  assert.deepEqual(errors, []);
  return value;
}

/** Counts calls; `fail` decides per call whether to refuse. */
class Sink<T> implements Consumer<T> {
  readonly received: T[] = [];
  calls = 0;
  fail: ((call: number) => Error | undefined) | undefined;
  async consume(data: T): Promise<void> {
    const err = this.fail?.(++this.calls);
    if (err) throw err;
    this.received.push(data);
  }
}

interface Backend { receiver: OtlpReceiver; telemetry: RecordingTelemetry; sinks: { [S in Signal]: Sink<SignalData[S]> }; grpcAddr: string; httpAddr: string }

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function startBackend(protocols: { grpc?: Record<string, unknown>; http?: Record<string, unknown> } = {}): Promise<Backend> {
  const telemetry = new RecordingTelemetry();
  const sinks = { traces: new Sink<TracesData>(), metrics: new Sink<MetricsData>(), logs: new Sink<LogsData>() };
  const config = readChecked(otlpReceiverFactory, { protocols: { grpc: { endpoint: '127.0.0.1:0', ...protocols.grpc }, http: { endpoint: '127.0.0.1:0', ...protocols.http } } });
  const receiver = otlpReceiverFactory.create(settingsFor(telemetry, 'otlp', 'receiver'), config, sinks as SignalConsumers) as OtlpReceiver;
  await receiver.start(host);
  cleanup.push(() => receiver.shutdown());
  return { receiver, telemetry, sinks, grpcAddr: receiver.grpcAddress()!, httpAddr: receiver.httpAddress()! };
}

type Exporter = Component & { consumers: SignalConsumers };

async function startExporter(factory: ExporterFactory, raw: Record<string, unknown>, id = factory.type): Promise<{ exporter: Exporter; telemetry: RecordingTelemetry }> {
  const telemetry = new RecordingTelemetry();
  // Without the queue consume() waits for the backend, which is what these tests observe; the
  // queued semantics (consume resolves on enqueue) are covered in test/unit/exporterhelper.
  const config = readChecked(factory, { sending_queue: { enabled: false }, ...raw });
  const exporter = factory.create(settingsFor(telemetry, id, 'exporter'), config, ['traces', 'metrics', 'logs']);
  await exporter.start(host);
  cleanup.push(() => exporter.shutdown());
  return { exporter, telemetry };
}

function consume<S extends Signal>(exporter: Exporter, signal: S, data: SignalData[S]): Promise<void> {
  return (exporter.consumers[signal] as Consumer<SignalData[S]>).consume(data);
}

const noRetry = { retry_on_failure: { enabled: false } };
const fastRetry = { retry_on_failure: { initial_interval: '20ms', max_interval: '100ms', max_elapsed_time: '10s' } };

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

// ---- fixtures: every field kind the schema has -------------------------------------------------

const t0 = Long.fromString('1700000000123456789', true);
const later = (ms: number): Long => t0.add(Long.fromNumber(ms * 1_000_000, true));
const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, { key: 'k8s.pod.uid', value: { stringValue: 'c0ffee' } }] };
const scope = { name: 'sonde.test', version: '1.0.0', attributes: [{ key: 'scope.attr', value: { boolValue: true } }] };

function traces(): TracesData {
  const traceId = randomBytes(16);
  return {
    resourceSpans: [{
      resource,
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeSpans: [{
        scope,
        spans: [{
          traceId, spanId: randomBytes(8), name: 'GET /cart', kind: 2, startTimeUnixNano: t0, endTimeUnixNano: later(12), traceState: 'a=b', flags: 1,
          attributes: [
            { key: 's', value: { stringValue: 'x' } }, { key: 'i', value: { intValue: Long.fromNumber(-42) } }, { key: 'd', value: { doubleValue: 2.5 } },
            { key: 'b', value: { boolValue: true } }, { key: 'bytes', value: { bytesValue: Buffer.from([1, 2, 3]) } },
            { key: 'arr', value: { arrayValue: { values: [{ stringValue: 'p' }, { intValue: Long.fromNumber(7) }] } } },
            { key: 'kv', value: { kvlistValue: { values: [{ key: 'inner', value: { stringValue: 'v' } }] } } },
          ],
          events: [{ timeUnixNano: later(3), name: 'exception', attributes: [{ key: 'exception.type', value: { stringValue: 'Timeout' } }] }],
          links: [{ traceId: randomBytes(16), spanId: randomBytes(8), attributes: [], traceState: 'c=d' }],
          status: { code: 2, message: 'deadline' },
          droppedAttributesCount: 1,
        }, {
          traceId, spanId: randomBytes(8), parentSpanId: randomBytes(8), name: 'SELECT', kind: 3, startTimeUnixNano: later(1), endTimeUnixNano: later(5),
          attributes: [], events: [], links: [],
        }],
      }],
    }],
  };
}

function metrics(): MetricsData {
  const attrs = [{ key: 'route', value: { stringValue: '/a' } }];
  return {
    resourceMetrics: [{
      resource,
      scopeMetrics: [{
        scope,
        metrics: [
          { name: 'up', unit: '1', gauge: { dataPoints: [{ attributes: attrs, timeUnixNano: t0, asInt: Long.fromNumber(1), exemplars: [] }] } },
          { name: 'requests', description: 'handled', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [
            { attributes: attrs, startTimeUnixNano: t0, timeUnixNano: later(1000), asDouble: 12.5, exemplars: [{ filteredAttributes: [], timeUnixNano: later(10), asDouble: 1, traceId: randomBytes(16), spanId: randomBytes(8) }] },
            { attributes: [], startTimeUnixNano: t0, timeUnixNano: later(1000), asDouble: 3, exemplars: [] },
          ] } },
          { name: 'latency', unit: 'ms', histogram: { aggregationTemporality: 1, dataPoints: [{
            attributes: attrs, startTimeUnixNano: t0, timeUnixNano: later(1000), count: Long.fromNumber(3, true), sum: 130,
            bucketCounts: [Long.fromNumber(1, true), Long.fromNumber(1, true), Long.fromNumber(1, true)], explicitBounds: [5, 100], exemplars: [], min: 3, max: 120,
          }] } },
          { name: 'size', exponentialHistogram: { aggregationTemporality: 2, dataPoints: [{
            attributes: [], timeUnixNano: later(1000), count: Long.fromNumber(4, true), sum: 10, scale: 2, zeroCount: Long.fromNumber(1, true),
            positive: { offset: -1, bucketCounts: [Long.fromNumber(2, true), Long.fromNumber(1, true)] }, exemplars: [],
          }] } },
          { name: 'rpc.duration', summary: { dataPoints: [{ attributes: [], timeUnixNano: later(1000), count: Long.fromNumber(2, true), sum: 9, quantileValues: [{ quantile: 0.5, value: 4 }, { quantile: 1, value: 5 }] }] } },
        ],
      }],
    }],
  };
}

function logs(): LogsData {
  return {
    resourceLogs: [{
      resource,
      scopeLogs: [{
        scope,
        logRecords: [
          { timeUnixNano: t0, observedTimeUnixNano: later(1), severityNumber: 13, severityText: 'WARN', body: { stringValue: 'disk almost full' }, attributes: [{ key: 'disk.free', value: { intValue: Long.fromNumber(42) } }], traceId: randomBytes(16), spanId: randomBytes(8), flags: 1 },
          { timeUnixNano: later(2), severityNumber: 9, body: { kvlistValue: { values: [{ key: 'event', value: { stringValue: 'login' } }] } }, attributes: [], eventName: 'user.login' },
        ],
      }],
    }],
  };
}

const fixtures: { [S in Signal]: () => SignalData[S] } = { traces, metrics, logs };

/** Equal content: both sides through the same OTLP/JSON encoder. */
function assertSame<S extends Signal>(signal: S, got: SignalData[S], want: SignalData[S]): void {
  const enc = codecs[signal].encodeRequestJson as (d: SignalData[S]) => string;
  assert.deepEqual(JSON.parse(enc(got)), JSON.parse(enc(want)));
}

// ---- openssl ---------------------------------------------------------------------------------

let certDir = '';
const pem = (name: string): string => join(certDir, name);

function selfSigned(name: string, subjectAltName: string): void {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`,
    '-addext', `subjectAltName=${subjectAltName}`, '-keyout', pem(`${name}.key`), '-out', pem(`${name}.crt`)], { stdio: 'pipe' });
}

before(function () {
  this.timeout(30000);
  certDir = mkdtempSync(join(tmpdir(), 'sonde-otlp-tls-'));
  selfSigned('localhost', 'DNS:localhost,IP:127.0.0.1');
  selfSigned('backend.internal', 'DNS:backend.internal');
  selfSigned('client', 'DNS:client');
  writeFileSync(pem('garbage.crt'), 'not a certificate');
});
after(() => rmSync(certDir, { recursive: true, force: true }));

// ---- raw backends for answers the receiver never gives ----------------------------------------

interface GrpcStub { addr: string; metadata: grpc.Metadata[]; answer: (call: number) => { err?: Partial<grpc.StatusObject>; response?: ExportResponse } | 'hang' }

async function grpcStub(answer: GrpcStub['answer']): Promise<GrpcStub> {
  const stub: GrpcStub = { addr: '', metadata: [], answer };
  const server = new grpc.Server();
  const handler: grpc.handleUnaryCall<Uint8Array, ExportResponse | undefined> = (call, callback) => {
    stub.metadata.push(call.metadata);
    const a = stub.answer(stub.metadata.length);
    if (a === 'hang') return;
    if (a.err) callback(a.err);
    else callback(null, a.response);
  };
  for (const s of ['traces', 'metrics', 'logs'] as const) server.addService(otlpGrpcRawServices[s], { Export: handler });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  cleanup.push(() => { server.forceShutdown(); });
  stub.addr = `127.0.0.1:${port}`;
  return stub;
}

interface HttpStub { url: string; requests: { headers: http.IncomingHttpHeaders; body: Buffer; url: string }[]; answer: (call: number) => { status: number; headers?: http.OutgoingHttpHeaders; body?: Uint8Array | string } | 'hang' }

async function httpStub(answer: HttpStub['answer']): Promise<HttpStub> {
  const stub: HttpStub = { url: '', requests: [], answer };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      stub.requests.push({ headers: req.headers, body: Buffer.concat(chunks), url: req.url ?? '' });
      const a = stub.answer(stub.requests.length);
      if (a === 'hang') return;
      res.writeHead(a.status, a.headers).end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => { server.closeAllConnections(); server.close(); });
  stub.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return stub;
}

// ---- tests -----------------------------------------------------------------------------------

describe('otlp exporters', function () {
  this.timeout(20000);

  describe('round trip through the otlp receiver', () => {
    const variants = [
      { name: 'otlp (gRPC), gzip', factory: otlpExporterFactory, config: (b: Backend) => ({ endpoint: b.grpcAddr, tls: { insecure: true } }) },
      { name: 'otlp (gRPC), no compression, http:// endpoint', factory: otlpExporterFactory, config: (b: Backend) => ({ endpoint: `http://${b.grpcAddr}`, compression: 'none' }) },
      { name: 'otlphttp proto, gzip', factory: otlpHttpExporterFactory, config: (b: Backend) => ({ endpoint: `http://${b.httpAddr}` }) },
      { name: 'otlphttp proto, no compression', factory: otlpHttpExporterFactory, config: (b: Backend) => ({ endpoint: `http://${b.httpAddr}/`, compression: 'none' }) },
      { name: 'otlphttp json, gzip', factory: otlpHttpExporterFactory, config: (b: Backend) => ({ endpoint: `http://${b.httpAddr}`, encoding: 'json' }) },
      { name: 'otlphttp json, no compression', factory: otlpHttpExporterFactory, config: (b: Backend) => ({ endpoint: `http://${b.httpAddr}`, encoding: 'json', compression: 'none' }) },
    ];
    for (const v of variants) {
      it(`${v.name}: what goes in comes out equal, for every signal`, async () => {
        const b = await startBackend();
        const { exporter, telemetry } = await startExporter(v.factory, v.config(b));
        for (const signal of ['traces', 'metrics', 'logs'] as const) {
          const data = fixtures[signal]();
          await consume(exporter, signal, data);
          const sink = b.sinks[signal] as Sink<SignalData[typeof signal]>;
          assert.equal(sink.received.length, 1, `${signal} arrived once`);
          assertSame(signal, sink.received[0]!, data);
          assert.equal(telemetry.total('sent', signal), countItems(signal, data));
        }
        assert.equal(telemetry.total('sent', 'metrics'), 6, 'items are data points');
        assert.equal(telemetry.total('failed'), 0);
      });
    }
  });

  describe('headers and compression on the wire', () => {
    it('otlp sends headers as metadata, a user agent, and gzip when asked', async () => {
      const stub = await grpcStub(() => ({}));
      const { exporter } = await startExporter(otlpExporterFactory, { endpoint: stub.addr, tls: { insecure: true }, headers: { 'X-Scope-OrgID': 'tenant-1', authorization: 'Bearer t' } });
      await consume(exporter, 'logs', logs());
      const md = stub.metadata[0]!;
      assert.deepEqual(md.get('x-scope-orgid'), ['tenant-1']);
      assert.deepEqual(md.get('authorization'), ['Bearer t']);
      assert.match(String(md.get('user-agent')[0]), /^sonde\/test/);
    });

    it('otlphttp sends headers, the encoding and gzip when asked, none when not', async () => {
      const stub = await httpStub(() => ({ status: 200 }));
      const { exporter } = await startExporter(otlpHttpExporterFactory, { endpoint: stub.url, headers: { 'X-Scope-OrgID': 'tenant-1' } });
      const data = traces();
      await consume(exporter, 'traces', data);
      const r = stub.requests[0]!;
      assert.equal(r.url, '/v1/traces');
      assert.equal(r.headers['x-scope-orgid'], 'tenant-1');
      assert.equal(r.headers['content-type'], 'application/x-protobuf');
      assert.equal(r.headers['content-encoding'], 'gzip');
      assert.equal(r.headers['user-agent'], 'sonde/test');
      assertSame('traces', codecs.traces.decodeRequest(zlib.gunzipSync(r.body)), data);

      const plain = await httpStub(() => ({ status: 200 }));
      const json = await startExporter(otlpHttpExporterFactory, { endpoint: plain.url, traces_endpoint: `${plain.url}/custom/path`, encoding: 'json', compression: 'none' });
      await consume(json.exporter, 'traces', data);
      await consume(json.exporter, 'logs', logs());
      assert.equal(plain.requests[0]!.url, '/custom/path');
      assert.equal(plain.requests[1]!.url, '/v1/logs');
      assert.equal(plain.requests[0]!.headers['content-encoding'], undefined);
      assert.equal(plain.requests[0]!.headers['content-type'], 'application/json');
      assertSame('traces', codecs.traces.decodeRequestJson(plain.requests[0]!.body), data);
    });
  });

  describe('TLS', () => {
    const serverTls = (): Record<string, unknown> => ({ tls: { cert_file: pem('localhost.crt'), key_file: pem('localhost.key') } });

    it('otlp verifies the server against ca_file', async () => {
      const b = await startBackend({ grpc: serverTls() });
      const { exporter } = await startExporter(otlpExporterFactory, { endpoint: b.grpcAddr, tls: { ca_file: pem('localhost.crt') }, ...noRetry });
      const data = traces();
      await consume(exporter, 'traces', data);
      assertSame('traces', b.sinks.traces.received[0]!, data);
    });

    it('otlp refuses an unknown certificate, unless insecure_skip_verify', async () => {
      const b = await startBackend({ grpc: serverTls() });
      const strict = await startExporter(otlpExporterFactory, { endpoint: b.grpcAddr, ...noRetry, timeout: '2s' });
      await assert.rejects(consume(strict.exporter, 'traces', traces()), (err: Error) => {
        assert.ok(err instanceof RetryableError, 'a TLS failure is a connection failure');
        assert.match(err.message, /^otlp: export traces: rpc error: code = Unavailable/);
        return true;
      });
      const lax = await startExporter(otlpExporterFactory, { endpoint: `https://${b.grpcAddr}`, tls: { insecure_skip_verify: true }, ...noRetry });
      await consume(lax.exporter, 'traces', traces());
      assert.equal(b.sinks.traces.received.length, 1);
    });

    it('otlp with tls.insecure speaks plaintext, which a TLS server refuses', async () => {
      const b = await startBackend({ grpc: serverTls() });
      const { exporter } = await startExporter(otlpExporterFactory, { endpoint: b.grpcAddr, tls: { insecure: true }, ...noRetry, timeout: '2s' });
      await assert.rejects(consume(exporter, 'logs', logs()), RetryableError);
      assert.equal(b.sinks.logs.received.length, 0);
    });

    it('otlp checks the name given by server_name_override', async () => {
      const b = await startBackend({ grpc: { tls: { cert_file: pem('backend.internal.crt'), key_file: pem('backend.internal.key') } } });
      const wrong = await startExporter(otlpExporterFactory, { endpoint: b.grpcAddr, tls: { ca_file: pem('backend.internal.crt') }, ...noRetry, timeout: '2s' });
      await assert.rejects(consume(wrong.exporter, 'traces', traces()), RetryableError);
      const right = await startExporter(otlpExporterFactory, { endpoint: b.grpcAddr, tls: { ca_file: pem('backend.internal.crt'), server_name_override: 'backend.internal' }, ...noRetry });
      await consume(right.exporter, 'traces', traces());
      assert.equal(b.sinks.traces.received.length, 1);
    });

    it('otlp and otlphttp present a client certificate to a server with client_ca_file (mTLS)', async () => {
      const mtls = { tls: { cert_file: pem('localhost.crt'), key_file: pem('localhost.key'), client_ca_file: pem('client.crt') } };
      const b = await startBackend({ grpc: mtls, http: mtls });
      const client = { ca_file: pem('localhost.crt'), cert_file: pem('client.crt'), key_file: pem('client.key') };
      const g = await startExporter(otlpExporterFactory, { endpoint: b.grpcAddr, tls: client, ...noRetry });
      const h = await startExporter(otlpHttpExporterFactory, { endpoint: `https://${b.httpAddr}`, tls: client, ...noRetry });
      await consume(g.exporter, 'traces', traces());
      await consume(h.exporter, 'traces', traces());
      assert.equal(b.sinks.traces.received.length, 2);
      const anonymous = await startExporter(otlpHttpExporterFactory, { endpoint: `https://${b.httpAddr}`, tls: { ca_file: pem('localhost.crt') }, ...noRetry });
      await assert.rejects(consume(anonymous.exporter, 'traces', traces()), RetryableError);
    });

    it('otlphttp verifies against ca_file, refuses an unknown certificate, unless insecure_skip_verify', async () => {
      const b = await startBackend({ http: serverTls() });
      const url = `https://${b.httpAddr}`;
      const ok = await startExporter(otlpHttpExporterFactory, { endpoint: url, tls: { ca_file: pem('localhost.crt') }, ...noRetry });
      const data = metrics();
      await consume(ok.exporter, 'metrics', data);
      assertSame('metrics', b.sinks.metrics.received[0]!, data);
      const strict = await startExporter(otlpHttpExporterFactory, { endpoint: url, ...noRetry });
      await assert.rejects(consume(strict.exporter, 'metrics', metrics()), (err: Error) => {
        assert.ok(err instanceof RetryableError);
        assert.match(err.message, /self.signed|SELF_SIGNED/i);
        return true;
      });
      const lax = await startExporter(otlpHttpExporterFactory, { endpoint: url, tls: { insecure_skip_verify: true }, ...noRetry });
      await consume(lax.exporter, 'metrics', metrics());
      assert.equal(b.sinks.metrics.received.length, 2);
    });

    it('fails at start on headers that cannot be sent', async () => {
      const cases: [ExporterFactory, Record<string, unknown>][] = [
        [otlpExporterFactory, { endpoint: '127.0.0.1:1', headers: { 'x-token-bin': 'not binary' } }],
        [otlpHttpExporterFactory, { endpoint: 'http://127.0.0.1:1', headers: { 'bad header': 'x' } }],
      ];
      for (const [factory, raw] of cases) {
        const exporter = factory.create(settingsFor(new RecordingTelemetry(), factory.type, 'exporter'), readChecked(factory, raw), ['traces']);
        await assert.rejects(exporter.start(host), new RegExp(`Error: ${factory.type}: headers: `));
        await exporter.shutdown();
      }
    });

    it('fails at start on an unreadable certificate file, naming it', async () => {
      for (const factory of [otlpExporterFactory, otlpHttpExporterFactory]) {
        const exporter = factory.create(settingsFor(new RecordingTelemetry(), factory.type, 'exporter'),
          readChecked(factory, { endpoint: 'https://127.0.0.1:1', tls: { ca_file: pem('missing.crt') } }), ['traces']);
        await assert.rejects(exporter.start(host), /missing\.crt/);
        await exporter.shutdown();
      }
    });
  });

  describe('failures: classes, retries, recovery', () => {
    const grpcVariant = { name: 'otlp', factory: otlpExporterFactory, endpoint: (b: Backend) => ({ endpoint: b.grpcAddr, tls: { insecure: true } }) };
    const httpVariant = { name: 'otlphttp', factory: otlpHttpExporterFactory, endpoint: (b: Backend) => ({ endpoint: `http://${b.httpAddr}` }) };

    for (const v of [grpcVariant, httpVariant]) {
      it(`${v.name}: a permanent refusal is PermanentError, not retried, counted as failed`, async () => {
        const b = await startBackend();
        b.sinks.traces.fail = () => new PermanentError('span from the future');
        const { exporter, telemetry } = await startExporter(v.factory, { ...v.endpoint(b), ...fastRetry });
        await assert.rejects(consume(exporter, 'traces', traces()), (err: Error) => {
          assert.ok(isPermanent(err), `${err.name}: ${err.message}`);
          assert.match(err.message, new RegExp(`^${v.name}: export traces: .*span from the future`));
          return true;
        });
        assert.equal(b.sinks.traces.calls, 1);
        assert.equal(telemetry.total('failed', 'traces'), 2);
        assert.equal(telemetry.total('sent'), 0);
      });

      it(`${v.name}: a retryable refusal is RetryableError with the server's delay when retry is off`, async () => {
        const b = await startBackend();
        b.sinks.logs.fail = () => new RetryableError('memory limit', { retryAfterMs: 2000 });
        const { exporter } = await startExporter(v.factory, { ...v.endpoint(b), ...noRetry });
        await assert.rejects(consume(exporter, 'logs', logs()), (err: Error) => {
          assert.ok(err instanceof RetryableError, `${err.name}: ${err.message}`);
          assert.match(err.message, /memory limit/);
          assert.equal(retryAfterMs(err), 2000);
          return true;
        });
      });

      it(`${v.name}: retries until the consumer recovers, honouring the server's delay`, async () => {
        const b = await startBackend();
        b.sinks.metrics.fail = (call) => (call === 1 ? new RetryableError('busy', { retryAfterMs: 1000 }) : call === 2 ? new Error('still busy') : undefined);
        const { exporter, telemetry } = await startExporter(v.factory, { ...v.endpoint(b), ...fastRetry });
        const began = Date.now();
        await consume(exporter, 'metrics', metrics());
        assert.ok(Date.now() - began >= 950, `waited ${Date.now() - began}ms, the server asked for 1s`);
        assert.equal(b.sinks.metrics.calls, 3);
        assert.equal(telemetry.total('sent', 'metrics'), 6);
        assert.equal(telemetry.total('failed'), 0);
      });

      it(`${v.name}: retries while the backend is down and delivers once it is up`, async () => {
        const port = await freePort();
        const endpoint = v.name === 'otlp' ? { endpoint: `127.0.0.1:${port}`, tls: { insecure: true } } : { endpoint: `http://127.0.0.1:${port}` };
        const { exporter, telemetry } = await startExporter(v.factory, { ...endpoint, ...fastRetry });
        const data = traces();
        const sending = consume(exporter, 'traces', data);
        await new Promise((r) => setTimeout(r, 300));
        const protocols = v.name === 'otlp' ? { grpc: { endpoint: `127.0.0.1:${port}` } } : { http: { endpoint: `127.0.0.1:${port}` } };
        const b = await startBackend(protocols);
        await sending;
        assertSame('traces', b.sinks.traces.received[0]!, data);
        assert.equal(telemetry.total('sent', 'traces'), 2);
      });

      it(`${v.name}: gives up after max_elapsed_time with a RetryableError`, async () => {
        const b = await startBackend();
        b.sinks.traces.fail = () => new Error('down');
        // Long enough for two attempts even when the backend asks for Retry-After: 1 (HTTP 503).
        const { exporter, telemetry } = await startExporter(v.factory, { ...v.endpoint(b), retry_on_failure: { initial_interval: '50ms', max_elapsed_time: '2500ms' } });
        await assert.rejects(consume(exporter, 'traces', traces()), (err: Error) => {
          assert.ok(err instanceof RetryableError);
          assert.match(err.message, /no more retries left/);
          return true;
        });
        assert.ok(b.sinks.traces.calls >= 2, `${b.sinks.traces.calls} attempts`);
        assert.equal(telemetry.total('failed', 'traces'), 2);
      });

      it(`${v.name}: shutdown abandons a backoff wait promptly and refuses new batches`, async () => {
        const b = await startBackend();
        b.sinks.traces.fail = () => new Error('down');
        const { exporter } = await startExporter(v.factory, { ...v.endpoint(b), retry_on_failure: { initial_interval: '10s' } });
        const sending = consume(exporter, 'traces', traces());
        await new Promise((r) => setTimeout(r, 200));
        const began = Date.now();
        await exporter.shutdown();
        await assert.rejects(sending, RetryableError);
        assert.ok(Date.now() - began < 2000);
        await assert.rejects(consume(exporter, 'traces', traces()), /not running/);
        await exporter.shutdown();
      });
    }

    it('otlp: RESOURCE_EXHAUSTED is retryable only with RetryInfo; other codes map per the spec', async () => {
      const cases: [grpc.status, boolean, boolean][] = [
        [grpc.status.RESOURCE_EXHAUSTED, false, false],
        [grpc.status.RESOURCE_EXHAUSTED, true, true],
        [grpc.status.UNAVAILABLE, false, true],
        [grpc.status.DEADLINE_EXCEEDED, false, true],
        [grpc.status.ABORTED, false, true],
        [grpc.status.DATA_LOSS, false, true],
        [grpc.status.INVALID_ARGUMENT, false, false],
        [grpc.status.UNAUTHENTICATED, false, false],
        [grpc.status.PERMISSION_DENIED, false, false],
        [grpc.status.INTERNAL, false, false],
        [grpc.status.UNIMPLEMENTED, false, false],
      ];
      let current = cases[0]!;
      const stub = await grpcStub(() => {
        const [code, withInfo] = current;
        const metadata = new grpc.Metadata();
        if (withInfo) metadata.set('grpc-status-details-bin', Buffer.from(encodeStatus(code, 'slow down', 1500)));
        return { err: { code, details: 'slow down', metadata } };
      });
      const { exporter } = await startExporter(otlpExporterFactory, { endpoint: stub.addr, tls: { insecure: true }, ...noRetry });
      for (const c of cases) {
        current = c;
        const err = await consume(exporter, 'traces', traces()).then(() => undefined, (e: unknown) => e as Error);
        assert.ok(err, `code ${c[0]} fails`);
        assert.equal(err instanceof RetryableError, c[2], `code ${grpc.status[c[0]]} retryable=${c[2]}: ${err.message}`);
        assert.equal(isPermanent(err), !c[2]);
        if (c[1]) assert.equal(retryAfterMs(err), 1500);
      }
    });

    it('otlp: a partial success counts the rejected items as dropped', async () => {
      const stub = await grpcStub(() => ({ response: { rejected: 1, message: 'span too large' } }));
      const { exporter, telemetry } = await startExporter(otlpExporterFactory, { endpoint: stub.addr, tls: { insecure: true } });
      await consume(exporter, 'traces', traces());
      assert.equal(telemetry.total('sent', 'traces'), 1);
      assert.deepEqual(telemetry.calls.filter((c) => c.what === 'dropped'), [{ what: 'dropped', signal: 'traces', items: 1, reason: 'rejected_by_backend' }]);
    });

    it('otlp: a deadline past timeout is retryable', async () => {
      const stub = await grpcStub(() => 'hang');
      const { exporter } = await startExporter(otlpExporterFactory, { endpoint: stub.addr, tls: { insecure: true }, timeout: '200ms', ...noRetry });
      await assert.rejects(consume(exporter, 'logs', logs()), (err: Error) => err instanceof RetryableError && /DeadlineExceeded/.test(err.message));
    });

    it('otlphttp: 429/502/503/504 are retryable with Retry-After, other statuses permanent with the Status message', async () => {
      const date = new Date(Date.now() + 5000).toUTCString();
      const cases: { status: number; retryable: boolean; headers?: http.OutgoingHttpHeaders; body?: Uint8Array | string; message?: RegExp; after?: [number, number] }[] = [
        { status: 429, retryable: true, headers: { 'Retry-After': '7' }, after: [7000, 7000] },
        { status: 503, retryable: true, headers: { 'Retry-After': date }, after: [3000, 5000] },
        { status: 502, retryable: true },
        { status: 504, retryable: true },
        { status: 400, retryable: false, headers: { 'Content-Type': 'application/x-protobuf' }, body: encodeStatus(3, 'bad span id'), message: /HTTP 400 Bad Request: bad span id/ },
        { status: 401, retryable: false, headers: { 'Content-Type': 'application/json' }, body: '{"code":16,"message":"no token"}', message: /no token/ },
        { status: 404, retryable: false, headers: { 'Content-Type': 'text/plain' }, body: '404 page not found', message: /404 page not found/ },
        { status: 500, retryable: false },
        { status: 413, retryable: false },
      ];
      let current = cases[0]!;
      const stub = await httpStub(() => ({ status: current.status, headers: current.headers, body: current.body }));
      const { exporter } = await startExporter(otlpHttpExporterFactory, { endpoint: stub.url, ...noRetry });
      for (const c of cases) {
        current = c;
        const err = await consume(exporter, 'logs', logs()).then(() => undefined, (e: unknown) => e as Error);
        assert.ok(err, `HTTP ${c.status} fails`);
        assert.equal(err instanceof RetryableError, c.retryable, `HTTP ${c.status}: ${err.message}`);
        assert.equal(isPermanent(err), !c.retryable);
        if (c.message) assert.match(err.message, c.message);
        assert.match(err.message, new RegExp(`^otlphttp: export logs: request to ${stub.url}/v1/logs responded with HTTP ${c.status}`));
        if (c.after) {
          const ms = retryAfterMs(err)!;
          assert.ok(ms >= c.after[0] && ms <= c.after[1], `Retry-After ${ms}ms`);
        }
      }
    });

    it('otlphttp: a partial success (JSON) counts the rejected items as dropped', async () => {
      const stub = await httpStub(() => ({ status: 200, headers: { 'Content-Type': 'application/json' }, body: codecs.logs.encodeResponseJson({ rejected: 2, message: 'too old' }) }));
      const { exporter, telemetry } = await startExporter(otlpHttpExporterFactory, { endpoint: stub.url, encoding: 'json' });
      await consume(exporter, 'logs', logs());
      assert.equal(telemetry.total('sent', 'logs'), 0);
      assert.equal(telemetry.total('dropped', 'logs'), 2);
    });

    it('otlphttp: no answer within timeout is retryable', async () => {
      const stub = await httpStub(() => 'hang');
      const { exporter } = await startExporter(otlpHttpExporterFactory, { endpoint: stub.url, timeout: '200ms', ...noRetry });
      await assert.rejects(consume(exporter, 'traces', traces()), (err: Error) => err instanceof RetryableError && /timeout/.test(err.message));
    });

    it('sending_queue: consume resolves once queued, refuses beyond queue_size, drops the rest at shutdown', async () => {
      const stub = await httpStub(() => 'hang');
      const { exporter, telemetry } = await startExporter(otlpHttpExporterFactory, { endpoint: stub.url, timeout: '500ms', ...noRetry, sending_queue: { num_consumers: 1, queue_size: 1 } });
      await consume(exporter, 'logs', logs()); // taken by the one consumer at once
      await consume(exporter, 'logs', logs()); // waits in the queue
      await assert.rejects(consume(exporter, 'logs', logs()), (err: Error) => err instanceof RetryableError && /sending queue is full/.test(err.message));
      assert.equal(telemetry.total('refused', 'logs'), 2, 'the refusal is enqueue_failed, the sender keeps the data');
      await exporter.shutdown();
      assert.equal(stub.requests.length, 2, 'the second waited for the first');
      assert.equal(telemetry.total('dropped', 'logs'), 4, 'both queued batches were lost to the hanging backend');
    });
  });

  describe('config', () => {
    it('otlp: Collector defaults, the otlp_grpc alias, and endpoint checks', () => {
      const { value } = readConfig(otlpExporterFactory.config, { endpoint: 'tempo:4317' });
      const v = value as { timeout: number; compression: string; tls: { insecure: boolean }; retry_on_failure: Record<string, unknown>; sending_queue: Record<string, unknown> };
      assert.equal(v.timeout, 5000);
      assert.equal(v.compression, 'gzip');
      assert.equal(v.tls.insecure, false);
      assert.deepEqual(v.retry_on_failure, { enabled: true, initial_interval: 5000, randomization_factor: 0.5, multiplier: 1.5, max_interval: 30000, max_elapsed_time: 300000 });
      assert.deepEqual(v.sending_queue, { enabled: true, num_consumers: 10, queue_size: 1000, sizer: 'requests', storage: undefined, block_on_overflow: false });
      assert.deepEqual(otlpExporterFactory.aliases, ['otlp_grpc']);
      const msgs = (raw: unknown): string[] => otlpExporterFactory.validate!(readConfig(otlpExporterFactory.config, raw).value).map((i) => `${i.path.join('.')}: ${i.message}`);
      assert.deepEqual(msgs({}), [': requires a non-empty "endpoint"']);
      assert.deepEqual(msgs({ endpoint: 'tempo' }), ['endpoint: expected host:port (optionally with http:// or https://), got "tempo"']);
      assert.deepEqual(msgs({ endpoint: 'https://tempo:443', sending_queue: { storage: 'file_storage/q' } }), []);
      assert.deepEqual(msgs({ endpoint: 'https://tempo:443', sending_queue: { storage: 'redis/q', sizer: 'bytes' } }), [
        'sending_queue.sizer: only "requests" is supported (queue_size counts batches), got "bytes"',
        'sending_queue.storage: expected a storage extension id such as file_storage/queue, got "redis/q"',
      ]);
    });

    it('otlphttp: Collector defaults, the otlp_http alias, and endpoint checks', () => {
      const { value } = readConfig(otlpHttpExporterFactory.config, { endpoint: 'http://x:4318' });
      const v = value as { timeout: number; compression: string; encoding: string };
      assert.equal(v.timeout, 30000);
      assert.equal(v.compression, 'gzip');
      assert.equal(v.encoding, 'proto');
      assert.deepEqual(otlpHttpExporterFactory.aliases, ['otlp_http']);
      const msgs = (raw: unknown): string[] => otlpHttpExporterFactory.validate!(readConfig(otlpHttpExporterFactory.config, raw).value).map((i) => `${i.path.join('.')}: ${i.message}`);
      assert.deepEqual(msgs({}), [': at least one endpoint must be specified']);
      assert.deepEqual(msgs({ endpoint: 'tempo:4318' }), ['endpoint: expected an http:// or https:// URL, got "tempo:4318"']);
      assert.deepEqual(msgs({ traces_endpoint: 'https://tempo/otlp/v1/traces' }), []);
    });

    it('parses Retry-After as seconds or an HTTP date', () => {
      const now = Date.parse('2026-01-01T00:00:00Z');
      assert.equal(retryAfter('30', now), 30000);
      assert.equal(retryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now), 10000);
      assert.equal(retryAfter('soon', now), undefined);
      assert.equal(retryAfter(undefined, now), undefined);
    });
  });
});
