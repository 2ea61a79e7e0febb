// A corpus of hostile and malformed OTLP requests against a real `sonde run` process (otlp over
// gRPC and HTTP -> file): every one gets an error status of its protocol, a valid request right
// after each is accepted (the process keeps serving), and the process's memory stays bounded
// (VmRSS after each case and VmHWM, the kernel's peak RSS, from /proc/<pid>/status).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { codecs } from '../../pipeline/otlp/codec';
import type { TracesData } from '../../pipeline/pdata';
import { freePort, startSonde, type SondeProcess } from '../helpers/sonde-process';

const MiB = 1024 * 1024;
/**
 * Peak RSS allowed for the whole corpus. The malformed requests alone stay near 130 MiB; the
 * valid 1e6-attribute request (9 MB of protobuf, a million decoded objects) takes it to ~350.
 */
const PEAK_RSS_BOUND = 512 * MiB;

// ---- protobuf by hand: hostile shapes are cheaper to write as bytes than as objects -----------

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) { out.push((n & 127) | 128); n = Math.floor(n / 128); }
  out.push(n);
  return Buffer.from(out);
}
const lenField = (field: number, body: Buffer): Buffer => Buffer.concat([varint((field << 3) | 2), varint(body.length), body]);
const varintLen = (n: number): number => varint(n).length;

/** ExportTraceServiceRequest{resource_spans{scope_spans{spans{...spanFields}}}}. */
function requestWithSpan(spanFields: Buffer[]): Buffer {
  const span = Buffer.concat([lenField(1, randomBytes(16)), lenField(2, randomBytes(8)), ...spanFields]);
  return lenField(1, lenField(2, lenField(2, span)));
}

/** One span with `n` attributes "a<i>" = int i (Span.attributes is field 9). */
function manyAttributes(n: number, keyPad = ''): Buffer {
  const attrs: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const kv = Buffer.concat([lenField(1, Buffer.from(`a${keyPad}${i}`)), lenField(2, Buffer.concat([Buffer.from([0x18]), varint(i)]))]);
    attrs.push(varint((9 << 3) | 2), varint(kv.length), kv);
  }
  return requestWithSpan([lenField(5, Buffer.from('wide')), Buffer.concat(attrs)]);
}

/** An attribute whose value is array_value{values[array_value{...}]} `depth` levels deep. */
function deepNesting(depth: number): Buffer {
  const inner = lenField(1, Buffer.from('x')); // AnyValue.string_value
  // Sizes bottom-up, then every prefix top-down: O(depth), not O(depth^2) copies.
  const prefixes: Buffer[] = [];
  let any = inner.length;
  const levels: { arr: number; any: number }[] = [];
  for (let i = 0; i < depth; i++) {
    const arr = 1 + varintLen(any) + any; // ArrayValue.values (field 1)
    any = 1 + varintLen(arr) + arr; // AnyValue.array_value (field 5)
    levels.push({ arr, any });
  }
  for (let i = depth - 1; i >= 0; i--) {
    const below = i === 0 ? inner.length : levels[i - 1]!.any;
    prefixes.push(Buffer.from([0x2a]), varint(levels[i]!.arr), Buffer.from([0x0a]), varint(below));
  }
  const value = Buffer.concat([...prefixes, inner]);
  const kv = Buffer.concat([lenField(1, Buffer.from('deep')), lenField(2, value)]);
  return requestWithSpan([lenField(5, Buffer.from('deep')), lenField(9, kv)]);
}

function deepJson(depth: number): string {
  return '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"d","attributes":[{"key":"d","value":'
    + '{"arrayValue":{"values":['.repeat(depth) + '{"stringValue":"x"}' + ']}}'.repeat(depth) + '}]}]}]}]}';
}

function validTraces(): Buffer {
  const t: TracesData = {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'corpus' } }] },
      scopeSpans: [{ scope: { name: 'corpus', attributes: [] }, spans: [{ traceId: randomBytes(16), spanId: randomBytes(8), name: 'ok', attributes: [], events: [], links: [] }] }],
    }],
  };
  const u = codecs.traces.encodeRequest(t);
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** `total` bytes of zeros gzipped, streamed so the test never holds them. */
async function gzipBomb(total: number): Promise<Buffer> {
  const gz = zlib.createGzip({ level: 9 });
  const parts: Buffer[] = [];
  gz.on('data', (c: Buffer) => parts.push(c));
  const zeros = Buffer.alloc(16 * MiB);
  for (let sent = 0; sent < total; sent += zeros.length) {
    if (!gz.write(zeros)) await new Promise((r) => gz.once('drain', r));
  }
  await new Promise<void>((r) => gz.end(r));
  return Buffer.concat(parts);
}

// ---- clients -------------------------------------------------------------------------------

interface Answer { status: string; detail: string }

/**
 * Posts a body (a Buffer, or `repeat` copies of a chunk streamed); resolves on the response.
 * Keep-alive, as OTLP exporters are: a `Connection: close` client (Node's agent: false) closes
 * its own socket when an early answer ends, and its next write of the body fails with EPIPE.
 */
function httpPost(port: number, path: string, body: Buffer | string, headers: http.OutgoingHttpHeaders, repeat = 1): Promise<Answer> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise<Answer>((resolve, reject) => {
    let answered = false;
    const req = http.request({ hostname: '127.0.0.1', port, path, method: 'POST', headers, agent }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: `http ${res.statusCode}`, detail: Buffer.concat(chunks).toString('latin1').replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 160) }));
      res.on('error', () => resolve({ status: `http ${res.statusCode}`, detail: '' }));
    });
    // The server may answer and close before the whole body is written: its answer is what counts.
    req.on('error', (err) => { if (!answered) reject(err); });
    const write = async (): Promise<void> => {
      for (let i = 0; i < repeat && !answered && !req.destroyed; i++) {
        if (!req.write(body)) await drainOrClose(req);
      }
      req.end();
    };
    void write();
  }).finally(() => agent.destroy());
}

function drainOrClose(req: http.ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => { req.off('drain', done); req.off('close', done); resolve(); };
    req.on('drain', done);
    req.on('close', done);
  });
}

function grpcExport(addr: string, payload: Buffer): Promise<Answer> {
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
  const id = (b: Buffer): Buffer => b;
  return new Promise((resolve) => {
    client.makeUnaryRequest(codecs.traces.grpcPath, id, id, payload, new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (err) => {
      client.close();
      resolve(err ? { status: `grpc ${grpc.status[err.code]}`, detail: err.details.slice(0, 160) } : { status: 'grpc OK', detail: '' });
    });
  });
}

/** One gRPC call over plain HTTP/2, for what grpc-js clients will not send (pre-compressed frames, wrong content-type). */
function grpcRaw(addr: string, frame: Buffer, headers: http2.OutgoingHttpHeaders): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${addr}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': codecs.traces.grpcPath, te: 'trailers', 'content-type': 'application/grpc', ...headers });
    let httpStatus = 0;
    let grpcStatus: string | undefined;
    let message = '';
    const take = (h: http2.IncomingHttpHeaders): void => {
      if (h['grpc-status'] !== undefined) grpcStatus = grpc.status[Number(h['grpc-status'])];
      if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']));
    };
    req.on('response', (h) => { httpStatus = Number(h[':status']); take(h); });
    req.on('trailers', take);
    req.resume();
    req.on('close', () => {
      session.close();
      resolve({ status: grpcStatus ? `grpc ${grpcStatus}` : `http ${httpStatus}`, detail: message.slice(0, 160) });
    });
    req.end(frame);
  });
}

function grpcFrame(message: Buffer, compressed: boolean): Buffer {
  const head = Buffer.alloc(5);
  head[0] = compressed ? 1 : 0;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

// ---- memory of the sonde process -------------------------------------------------------------

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

// ---- the corpus ------------------------------------------------------------------------------

interface Case {
  name: string;
  send(): Promise<Answer>;
  /** The protocol's error statuses this case may get. */
  expect: RegExp;
}

describe('otlp receiver: malformed-input corpus against a sonde process', function () {
  this.timeout(240_000);
  let sonde: SondeProcess;
  let grpcAddr: string;
  let httpPort: number;
  const results: { name: string; status: string; rssMiB: number }[] = [];
  let peakBeforeValid = 0;

  before(async () => {
    const [g, h] = [await freePort(), await freePort()];
    grpcAddr = `127.0.0.1:${g}`;
    httpPort = h;
    sonde = await startSonde(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${g} }
      http: { endpoint: 127.0.0.1:${h} }
exporters:
  debug: { verbosity: basic }
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
`);
  });

  after(async () => {
    const pid = sonde?.child.pid;
    if (pid) {
      const peak = procStatus(pid, 'VmHWM');
      process.stdout.write(`      corpus: ${JSON.stringify({ peak_rss_mib_malformed_only: Math.round(peakBeforeValid / MiB), peak_rss_mib: Math.round(peak / MiB), cases: results })}\n`);
    }
    await sonde?.stop('SIGKILL');
  });

  const proto = { 'Content-Type': 'application/x-protobuf' };
  const json = { 'Content-Type': 'application/json' };
  const valid = validTraces();
  const truncated = valid.subarray(0, Math.floor(valid.length * 0.6));
  const badUtf8 = requestWithSpan([lenField(5, Buffer.from([0x6f, 0x6b, 0xff, 0xfe, 0xc3]))]);
  const badUtf8Json = Buffer.concat([Buffer.from('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}]}]}]}')]);
  const MB = Buffer.alloc(MiB, 0x41);

  const cases: Case[] = [
    { name: 'http: random bytes', send: () => httpPost(httpPort, '/v1/traces', randomBytes(64 * 1024), proto), expect: /^http 400$/ },
    { name: 'http: truncated protobuf', send: () => httpPost(httpPort, '/v1/traces', truncated, proto), expect: /^http 400$/ },
    { name: 'http: wrong content-type', send: () => httpPost(httpPort, '/v1/traces', valid, { 'Content-Type': 'text/plain' }), expect: /^http 415$/ },
    { name: 'http: random bytes as JSON', send: () => httpPost(httpPort, '/v1/traces', randomBytes(4096), json), expect: /^http 400$/ },
    { name: 'http: 100 MB body (Content-Length)', send: () => httpPost(httpPort, '/v1/traces', MB, { ...proto, 'Content-Length': 100 * MiB }, 100), expect: /^http 413$/ },
    { name: 'http: 100 MB body (chunked)', send: () => httpPost(httpPort, '/v1/traces', MB, { ...proto, 'Transfer-Encoding': 'chunked' }, 100), expect: /^http 413$/ },
    { name: 'http: 1e6 attributes (over max_request_body_size)', send: () => httpPost(httpPort, '/v1/traces', manyAttributes(1_000_000, '-padding-'), proto), expect: /^http 413$/ },
    { name: 'http: 100000-deep nesting (protobuf)', send: () => httpPost(httpPort, '/v1/traces', deepNesting(100_000), proto), expect: /^http 400$/ },
    { name: 'http: 100000-deep nesting (JSON)', send: () => httpPost(httpPort, '/v1/traces', deepJson(100_000), json), expect: /^http 400$/ },
    { name: 'http: invalid UTF-8 (protobuf)', send: () => httpPost(httpPort, '/v1/traces', badUtf8, proto), expect: /^http 400$/ },
    { name: 'http: invalid UTF-8 (JSON)', send: () => httpPost(httpPort, '/v1/traces', badUtf8Json, json), expect: /^http 400$/ },
    { name: 'http: gzip bomb (1 GiB of zeros)', send: async () => httpPost(httpPort, '/v1/traces', await gzipBomb(1024 * MiB), { ...proto, 'Content-Encoding': 'gzip' }), expect: /^http 413$/ },
    { name: 'http: corrupt gzip', send: () => httpPost(httpPort, '/v1/traces', randomBytes(2048), { ...proto, 'Content-Encoding': 'gzip' }), expect: /^http 400$/ },
    { name: 'grpc: random bytes', send: () => grpcExport(grpcAddr, randomBytes(64 * 1024)), expect: /^grpc INVALID_ARGUMENT$/ },
    { name: 'grpc: truncated protobuf', send: () => grpcExport(grpcAddr, truncated), expect: /^grpc INVALID_ARGUMENT$/ },
    { name: 'grpc: wrong content-type', send: () => grpcRaw(grpcAddr, grpcFrame(valid, false), { 'content-type': 'text/plain' }), expect: /^(http 415|grpc (UNKNOWN|INTERNAL|UNIMPLEMENTED|INVALID_ARGUMENT))$/ },
    { name: 'grpc: 100 MB message', send: () => grpcExport(grpcAddr, Buffer.alloc(100 * MiB, 0x41)), expect: /^grpc RESOURCE_EXHAUSTED$/ },
    { name: 'grpc: 1e6 attributes (over max_recv_msg_size_mib)', send: () => grpcExport(grpcAddr, manyAttributes(1_000_000)), expect: /^grpc RESOURCE_EXHAUSTED$/ },
    { name: 'grpc: 100000-deep nesting', send: () => grpcExport(grpcAddr, deepNesting(100_000)), expect: /^grpc INVALID_ARGUMENT$/ },
    { name: 'grpc: invalid UTF-8', send: () => grpcExport(grpcAddr, badUtf8), expect: /^grpc INVALID_ARGUMENT$/ },
    { name: 'grpc: gzip bomb (1 GiB of zeros)', send: async () => grpcRaw(grpcAddr, grpcFrame(await gzipBomb(1024 * MiB), true), { 'grpc-encoding': 'gzip' }), expect: /^grpc RESOURCE_EXHAUSTED$/ },
    { name: 'grpc: corrupt gzip frame', send: () => grpcRaw(grpcAddr, grpcFrame(randomBytes(2048), true), { 'grpc-encoding': 'gzip' }), expect: /^grpc (INTERNAL|INVALID_ARGUMENT|RESOURCE_EXHAUSTED|UNAVAILABLE)$/ },
    // Valid, if absurd: accepted and measured last, the largest legal decode of this corpus.
    { name: 'http: 1e6 attributes within max_request_body_size (valid: accepted)', send: () => httpPost(httpPort, '/v1/traces', manyAttributes(1_000_000), proto), expect: /^http 200$/ },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.expect.source.includes('200') ? 'accepted' : 'an error status'}, then a valid request is accepted`, async () => {
      if (c.expect.source.includes('200')) peakBeforeValid = procStatus(sonde.child.pid!, 'VmHWM');
      const answer = await c.send();
      const rssMiB = Math.round(procStatus(sonde.child.pid!, 'VmRSS') / MiB);
      results.push({ name: c.name, status: answer.status, rssMiB });
      assert.notEqual(answer.status, 'http 500', 'never 500');
      assert.equal((await httpPost(httpPort, '/v1/traces', valid, proto)).status, 'http 200', 'still serving HTTP');
      assert.equal((await grpcExport(grpcAddr, valid)).status, 'grpc OK', 'still serving gRPC');
      assert.equal(sonde.child.exitCode, null, sonde.stderr());
      assert.match(answer.status, c.expect, `${c.name}: got ${answer.status} ${answer.detail}`);
    });
  }

  it('kept its peak RSS bounded over the whole corpus', () => {
    const peak = procStatus(sonde.child.pid!, 'VmHWM');
    assert.ok(peak < PEAK_RSS_BOUND, `peak RSS ${Math.round(peak / MiB)} MiB >= ${PEAK_RSS_BOUND / MiB} MiB`);
  });
});
