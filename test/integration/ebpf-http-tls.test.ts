// ebpf_http over TLS: a Node https server (OpenSSL linked statically into node, its SSL_* symbols
// exported) with a self-signed certificate made by openssl, curl -k (libssl.so.3) and a Node https
// client. The plaintext becomes spans with url.scheme=https on both sides; the ciphertext of the
// same sockets produces nothing. Every peer is a child process: Sonde never observes itself.
import * as assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { readConfig } from '../../pipeline/config/schema';
import { SpanKind, type AnyValue, type KeyValue, type Span, type TracesData } from '../../pipeline/pdata';
import { ebpfHttpReceiverFactory } from '../../receivers/ebpf_http';
import { EbpfHttpReceiver } from '../../receivers/ebpf_http/receiver';
import { CONN_MIDSTREAM, CONN_NO_TUPLE, CONN_TLS, Direction, EventKind, Role, type HttpEvent } from '../../receivers/ebpf_http/record';
import { HttpTracker, type Exchange, type TrackerCount } from '../../receivers/ebpf_http/tracker';
import { RecordingTelemetry, testHost, testSettings } from '../helpers/component-harness';
import { ensureEbpfBuild } from '../helpers/ebpf';


const host = testHost;

interface CapturedSpan { pid: number; exe: string; span: Span }
interface Harness { receiver: EbpfHttpReceiver; spans: CapturedSpan[]; telemetry: RecordingTelemetry }

const attr = (attrs: KeyValue[] | undefined, key: string): AnyValue | undefined => attrs?.find((a) => a.key === key)?.value;
const sattr = (s: Span, key: string): string | undefined => attr(s.attributes, key)?.stringValue;
const iattr = (s: Span, key: string): number | undefined => {
  const v = attr(s.attributes, key)?.intValue;
  return v === undefined ? undefined : Number(v);
};
const duration = (s: Span): bigint => BigInt(s.endTimeUnixNano?.toString() ?? '0') - BigInt(s.startTimeUnixNano?.toString() ?? '0');

async function startReceiver(raw: Record<string, unknown>): Promise<Harness> {
  const { value, issues } = readConfig(ebpfHttpReceiverFactory.config, raw);
  assert.deepEqual([...issues, ...(ebpfHttpReceiverFactory.validate?.(value) ?? [])].filter((i) => i.severity === 'error'), []);
  const telemetry = new RecordingTelemetry();
  const settings = testSettings(telemetry, 'ebpf_http/tls', 'receiver');
  const spans: CapturedSpan[] = [];
  const consume = async (d: TracesData): Promise<void> => {
    for (const rs of d.resourceSpans) {
      const pid = Number(attr(rs.resource?.attributes, 'process.pid')?.intValue);
      const exe = attr(rs.resource?.attributes, 'process.executable.name')?.stringValue ?? '';
      for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ pid, exe, span });
    }
  };
  const r = ebpfHttpReceiverFactory.create(settings, value, { traces: { consume } });
  assert.ok(r instanceof EbpfHttpReceiver);
  await r.start(host);
  return { receiver: r, spans, telemetry };
}

/** Waits (bounded) until `cond` holds; never asserts time. */
async function until(cond: () => boolean, tick: () => Promise<void> = async () => {}, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    await tick();
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  await tick();
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 << 20, encoding: 'latin1' }, (err, out, stderr) => (err ? reject(new Error(`${cmd}: ${err.message} ${stderr}`)) : resolve(out)));
  });
}

/** A child running `src` with `node` (or another binary); resolves once it printed "READY <port>". */
async function child(bin: string, src: string, args: string[] = []): Promise<{ child: ChildProcess; port: number; out: Promise<string> }> {
  const c = spawn(bin, ['-e', src, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buf = '';
  const out = new Promise<string>((resolve) => c.once('close', () => resolve(buf)));
  const port = await new Promise<number>((resolve, reject) => {
    c.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const m = /READY (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    c.once('exit', (code) => reject(new Error(`child exited ${String(code)}: ${buf}`)));
  });
  return { child: c, port, out };
}

function kill(c: ChildProcess | undefined): void {
  if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/** An https server: 404 under /missing/, the request body's length echoed for POST, else 200. */
const SERVER = (key: string, cert: string): string => `
  const https = require('https'), fs = require('fs');
  const srv = https.createServer({ key: fs.readFileSync(${JSON.stringify(key)}), cert: fs.readFileSync(${JSON.stringify(cert)}) }, (req, res) => {
    let n = 0;
    req.on('data', (d) => { n += d.length; });
    req.on('end', () => {
      if (req.url.startsWith('/missing/')) { res.statusCode = 404; res.end('missing'); return; }
      res.end(req.method === 'POST' ? 'got ' + n : 'hello ' + req.url);
    });
  });
  srv.keepAliveTimeout = 60000;
  srv.listen(0, '127.0.0.1', () => console.log('READY ' + srv.address().port));
`;

// on the data path auto picks here (the sock tracepoints) and on the syscall tracepoints: the
// socket under an SSL is found by its struct sock on one, by its fd on the other
for (const attach of ['auto', 'tracepoint'] as const) describe(`ebpf_http over TLS (Node https server, curl -k, Node https client; attach: ${attach})`, function () {
  this.timeout(120_000);
  let dir: string;
  let key: string;
  let cert: string;
  const running: Harness[] = [];
  const children: ChildProcess[] = [];

  before(function () {
    ensureEbpfBuild();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sonde-tls-'));
    key = path.join(dir, 'key.pem');
    cert = path.join(dir, 'cert.pem');
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-subj', '/CN=localhost', '-days', '1'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `openssl req: ${r.stderr}`);
  });

  after(function () {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async function () {
    for (const h of running.splice(0)) await h.receiver.shutdown();
    for (const c of children.splice(0)) kill(c);
  });

  async function receiver(raw: Record<string, unknown>): Promise<Harness> {
    const h = await startReceiver(attach === 'auto' ? raw : { ...raw, attach });
    running.push(h);
    return h;
  }

  it('Node https server + curl -k: plaintext method/path/status and url.scheme=https on both sides, nothing from the ciphertext', async function () {
    const srv = await child(process.execPath, SERVER(key, cert));
    children.push(srv.child);
    const h = await receiver({ ports: [srv.port] });
    assert.ok(h.receiver.tlsBinaries().some((b) => b.kind === 'library' && /libssl\.so\.3$/.test(b.path)), JSON.stringify(h.receiver.tlsBinaries()));
    assert.ok(h.receiver.tlsBinaries().some((b) => b.kind === 'executable'), 'node (static OpenSSL) attached');

    const expected: string[] = [];
    const args = ['-sk', '--http1.1', '-w', '%{http_code}\n'];
    for (let i = 0; i < 20; i++) {
      const p = i % 5 === 0 ? `/missing/${i}` : `/users/${i}`;
      args.push('-o', '/dev/null', `https://127.0.0.1:${srv.port}${p}`);
      expected.push(`GET ${p} ${i % 5 === 0 ? 404 : 200}`);
    }
    const codes = await run('curl', args);
    assert.equal(codes.trim().split('\n').length, 20);
    // a POST with a body on a connection of its own
    assert.equal(await run('curl', ['-sk', '--http1.1', '-d', 'x'.repeat(3000), `https://127.0.0.1:${srv.port}/orders/7`]), 'got 3000');
    expected.push('POST /orders/7 200');

    const server = (): CapturedSpan[] => h.spans.filter((s) => s.span.kind === SpanKind.SERVER);
    const client = (): CapturedSpan[] => h.spans.filter((s) => s.span.kind === SpanKind.CLIENT);
    await until(() => server().length >= 21 && client().length >= 21, () => h.receiver.flush());
    const summary = (l: CapturedSpan[]): string[] => l.map((s) => `${sattr(s.span, 'http.request.method') ?? ''} ${sattr(s.span, 'url.path') ?? ''} ${iattr(s.span, 'http.response.status_code') ?? 0}`).sort();

    const sv = server();
    assert.deepEqual(summary(sv), [...expected].sort(), `SERVER spans: ${JSON.stringify(h.telemetry.summary())}`);
    for (const { pid, exe, span } of sv) {
      assert.equal(pid, srv.child.pid, 'server spans come from the node server');
      assert.equal(exe, 'node');
      assert.equal(sattr(span, 'url.scheme'), 'https');
      assert.equal(iattr(span, 'server.port'), srv.port);
      assert.equal(sattr(span, 'client.address'), '127.0.0.1', 'the socket under the SSL was found');
      assert.ok(sattr(span, 'user_agent.original')?.startsWith('curl/'));
      assert.ok(duration(span) > 0n);
    }
    const cl = client();
    assert.deepEqual(summary(cl), [...expected].sort(), `CLIENT spans: ${JSON.stringify(h.telemetry.summary())}`);
    for (const { exe, span } of cl) {
      assert.equal(exe, 'curl');
      assert.equal(sattr(span, 'url.scheme'), 'https');
      assert.equal(iattr(span, 'network.peer.port'), srv.port);
      assert.ok(duration(span) > 0n);
    }
    // the ciphertext on the same sockets was never taken for HTTP
    assert.equal(h.spans.length, 42);
    assert.equal(h.telemetry.countOf('http_unmatched', { reason: 'out_of_sync' }) + h.telemetry.countOf('http_unmatched', { reason: 'desync' }) + h.telemetry.countOf('http_unmatched', { reason: 'framing_lost' }), 0);
    assert.ok(h.telemetry.countOf('http_tls_binaries_attached', { reason: 'library' }) >= 1);
    assert.ok(h.telemetry.countOf('http_tls_binaries_attached', { reason: 'executable' }) >= 1);
  });

  it('a Node https keep-alive client (memory BIO: the socket is found from the read before SSL_read): CLIENT and SERVER spans', async function () {
    const srv = await child(process.execPath, SERVER(key, cert));
    children.push(srv.child);
    const h = await receiver({ ports: [srv.port] });
    const src = `
      const https = require('https');
      const agent = new https.Agent({ keepAlive: true, maxSockets: 2, rejectUnauthorized: false });
      const port = Number(process.argv[1]);
      let done = 0, started = 0;
      function one() {
        if (started >= 50) return;
        const n = started++;
        https.get({ host: '127.0.0.1', port, path: '/items/' + n, agent }, (res) => {
          res.resume();
          res.on('end', () => { if (++done === 50) { agent.destroy(); console.log('READY 0'); } else one(); });
        }).on('error', (e) => { console.error(e); process.exit(1); });
      }
      one(); one();
    `;
    const cli = await child(process.execPath, src, [String(srv.port)]);
    children.push(cli.child);
    await cli.out;
    const mine = (kind: SpanKind, pid: number | undefined): CapturedSpan[] => h.spans.filter((s) => s.span.kind === kind && s.pid === pid);
    await until(() => mine(SpanKind.CLIENT, cli.child.pid).length >= 50 && mine(SpanKind.SERVER, srv.child.pid).length >= 50, () => h.receiver.flush());
    for (const [kind, pid] of [[SpanKind.CLIENT, cli.child.pid], [SpanKind.SERVER, srv.child.pid]] as const) {
      const spans = mine(kind, pid);
      assert.equal(spans.length, 50, `${kind}: ${JSON.stringify(h.telemetry.summary())}`);
      assert.deepEqual(spans.map((s) => sattr(s.span, 'url.path')).sort(), Array.from({ length: 50 }, (_, i) => `/items/${i}`).sort());
      assert.ok(spans.every((s) => sattr(s.span, 'url.scheme') === 'https' && iattr(s.span, 'http.response.status_code') === 200));
    }
    assert.ok(mine(SpanKind.CLIENT, cli.child.pid).every((s) => iattr(s.span, 'network.peer.port') === srv.port), 'client sockets found');
  });

  it('a binary never seen before, started after the receiver, is found on exec and attached once', async function () {
    // a copy of node is a new file (inode) that no scan at start could have seen
    const copy = path.join(dir, 'node-copy');
    fs.copyFileSync(process.execPath, copy);
    fs.chmodSync(copy, 0o755);
    const h = await receiver({});
    assert.ok(!h.receiver.tlsBinaries().some((b) => b.path === copy));
    const srv = await child(copy, SERVER(key, cert));
    children.push(srv.child);
    await until(() => h.receiver.tlsBinaries().some((b) => b.path === copy));
    assert.equal(h.receiver.tlsBinaries().filter((b) => b.path === copy).length, 1, JSON.stringify(h.receiver.tlsBinaries()));
    await run('curl', ['-sk', '--http1.1', '-o', '/dev/null', `https://127.0.0.1:${srv.port}/after/exec`]);
    const mine = (): CapturedSpan[] => h.spans.filter((s) => s.pid === srv.child.pid);
    await until(() => mine().length >= 1, () => h.receiver.flush());
    assert.equal(mine().length, 1);
    const span = (mine()[0] as CapturedSpan).span;
    assert.equal(span.kind, SpanKind.SERVER);
    assert.equal(sattr(span, 'url.path'), '/after/exec');
    assert.equal(sattr(span, 'url.scheme'), 'https');
    assert.equal((mine()[0] as CapturedSpan).exe, 'node-copy');
  });
});

// The tracker's side of a TLS connection whose socket the kernel did not know at its first
// record (a Node client writes its first request before it reads anything): its requests wait
// as tentative until a record tells whether the socket was seen opening.
describe('ebpf_http tracker: TLS connections without a socket yet', function () {
  const TENTATIVE = CONN_TLS | CONN_NO_TUPLE | CONN_MIDSTREAM;

  function harness(): { feed(dir: Direction, text: string, flags: number): void; exchanges: Exchange[]; counts: Map<TrackerCount, number> } {
    const exchanges: Exchange[] = [];
    const counts = new Map<TrackerCount, number>();
    const t = new HttpTracker({ maxConnections: 16, maxPendingRequests: 8, idleTimeoutMs: 60_000 }, (x) => exchanges.push(x), (w, n = 1) => counts.set(w, (counts.get(w) ?? 0) + n));
    let ts = 1;
    return {
      exchanges,
      counts,
      feed(dir, text, flags) {
        const data = Buffer.from(text, 'latin1');
        const tuple = (flags & CONN_NO_TUPLE) === 0;
        const e: HttpEvent = {
          tsNs: ts++, connId: 7n, total: data.length, tgid: 10, tid: 10, fd: tuple ? 5 : -1, kind: EventKind.DATA, direction: dir, role: Role.CLIENT,
          flags, laddr: tuple ? '127.0.0.1' : '::', raddr: tuple ? '127.0.0.1' : '::', lport: tuple ? 40000 : 0, rport: tuple ? 8443 : 0, comm: 'node', bytes: data, dataStart: 0, captured: data.length, tail: Buffer.alloc(0),
        };
        t.handle(e);
      },
    };
  }

  const REQ = 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n';
  const RES = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

  it('the socket turns out to have been seen opening: the tentative request stands and pairs', function () {
    const h = harness();
    h.feed(Direction.SEND, REQ, TENTATIVE);
    h.feed(Direction.RECV, RES, CONN_TLS);
    assert.equal(h.exchanges.length, 1);
    const x = h.exchanges[0] as Exchange;
    assert.equal(x.request.target, '/a');
    assert.equal(x.conn.tls, true);
    assert.equal(x.conn.noTuple, false, 'the addresses arrived with the later record');
    assert.equal(x.conn.rport, 8443);
    assert.equal(h.counts.get('midstream_request'), undefined);
  });

  it('the socket was itself joined mid-stream: the tentative request is dropped (counted), the response unmatched', function () {
    const h = harness();
    h.feed(Direction.SEND, REQ, TENTATIVE);
    h.feed(Direction.RECV, RES, CONN_TLS | CONN_MIDSTREAM);
    assert.equal(h.exchanges.length, 0);
    assert.equal(h.counts.get('midstream_request'), 1);
    assert.equal(h.counts.get('unmatched_response'), 1);
    // aligned again: the next exchange pairs
    h.feed(Direction.SEND, REQ, CONN_TLS | CONN_MIDSTREAM);
    h.feed(Direction.RECV, RES, CONN_TLS | CONN_MIDSTREAM);
    assert.equal(h.exchanges.length, 1);
  });

  it('a response while the socket is still unknown: no pairing can be vouched for', function () {
    const h = harness();
    h.feed(Direction.SEND, REQ, TENTATIVE);
    h.feed(Direction.RECV, RES, TENTATIVE);
    assert.equal(h.exchanges.length, 0);
    assert.equal(h.counts.get('midstream_request'), 1);
  });
});
