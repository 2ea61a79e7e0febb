// The ebpf_http user-space side without the kernel: records built by hand as the kernel sends
// them (first bytes captured, total counts), fed to the tracker. Framing, pairing and what is
// counted when bytes are missing; routes, query redaction, traceparent, container ids.
import * as assert from 'node:assert/strict';

import { readConfig } from '../../pipeline/config/schema';
import { configSchema } from '../../receivers/ebpf_http/config';
import { containerIdFromCgroup } from '../../receivers/ebpf_http/container';
import { commandLine } from '../../receivers/ebpf_http/spans';
import { parseHead } from '../../receivers/ebpf_http/http1';
import { CONN_LOST, CONN_MIDSTREAM, Direction, EventKind, Role } from '../../receivers/ebpf_http/record';
import { parseTraceparent, redactQuery, routeOf, splitTarget } from '../../receivers/ebpf_http/route';
import { HttpTracker, type Exchange } from '../../receivers/ebpf_http/tracker';
import { syscallRecord } from '../helpers/http-records';

class Conn {
  private ts = 1000;
  readonly out: Exchange[] = [];
  readonly counts = new Map<string, number>();
  readonly tracker = new HttpTracker({ maxConnections: 100, maxPendingRequests: 8, idleTimeoutMs: 60_000 },
    (x) => this.out.push(x), (w, n = 1) => this.counts.set(w, (this.counts.get(w) ?? 0) + n));

  constructor(private readonly role: Role = Role.SERVER, private readonly flags = 0, private readonly capture = 512) {}

  /** One syscall: `bytes` moved; the kernel captured the first `capture` of them and the tail.
   * `lost`: the kernel lost records of this connection before this one (CONN_LOST). */
  io(dir: Direction, bytes: Buffer | string, lost = false): this {
    const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    this.ts += 10;
    this.tracker.handle(syscallRecord({ connKey: 1, role: this.role, direction: dir, bytes: b, capture: this.capture, tsNs: this.ts, flags: lost ? this.flags | CONN_LOST : this.flags }));
    return this;
  }

  recv(b: Buffer | string): this { return this.io(Direction.RECV, b); }
  send(b: Buffer | string): this { return this.io(Direction.SEND, b); }

  close(): this {
    this.tracker.handle({ tsNs: this.ts, connId: 1n, total: 0, tgid: 10, tid: 10, fd: 3, kind: EventKind.CLOSE, direction: 0, role: this.role,
      flags: 0, laddr: '', raddr: '', lport: 0, rport: 0, comm: '', bytes: Buffer.alloc(0), dataStart: 0, captured: 0, tail: Buffer.alloc(0) });
    return this;
  }

  pairs(): string[] {
    return this.out.map((x) => `${x.request.method} ${x.request.target} ${x.response.status}`);
  }

  count(k: string): number { return this.counts.get(k) ?? 0; }
}

const req = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: h\r\n${extra}\r\n`;
const res = (status: number, body = '', extra = ''): string => `HTTP/1.1 ${status} X\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;

describe('ebpf_http tracker (hand-built records)', function () {
  it('keep-alive: request/response pairs in order, timed first request byte -> last response byte', function () {
    const c = new Conn().recv(req('/a')).send(res(200, 'hello')).recv(req('/b')).send(res(404, 'no'));
    assert.deepEqual(c.pairs(), ['GET /a 200', 'GET /b 404']);
    const x = c.out[0] as Exchange;
    assert.ok(x.endNs > x.startNs);
  });

  it('a response split over many syscalls ends with its last Content-Length byte', function () {
    const body = 'x'.repeat(100_000);
    const full = Buffer.from(res(200, body));
    const c = new Conn().recv(req('/big'));
    for (let o = 0; o < full.length; o += 8192) c.send(full.subarray(o, o + 8192));
    assert.deepEqual(c.pairs(), ['GET /big 200']);
    assert.equal(c.out[0]?.endNs, 1000 + 10 * (1 + Math.ceil(full.length / 8192)));
  });

  it('chunked: exact while chunk lines are captured, then by the "0\\r\\n\\r\\n" tail', function () {
    const chunks = ['5\r\nhello\r\n', `${(200_000).toString(16)}\r\n${'y'.repeat(200_000)}\r\n`, '3\r\nend\r\n', '0\r\n\r\n'].join('');
    const all = Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}`);
    const c = new Conn(Role.CLIENT).send(req('/c'));
    for (let o = 0; o < all.length; o += 65536) c.recv(all.subarray(o, o + 65536));
    c.send(req('/next')).recv(res(200, 'ok'));
    assert.deepEqual(c.pairs(), ['GET /c 200', 'GET /next 200']);
  });

  it('100-continue: the interim response is skipped, the final one pairs', function () {
    const c = new Conn()
      .recv('POST /up HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n')
      .send('HTTP/1.1 100 Continue\r\n\r\n')
      .recv('data')
      .send(res(201, 'made'));
    assert.deepEqual(c.out.map((x) => `${x.request.method} ${x.response.status}`), ['POST 201']);
  });

  it('HEAD: a response with Content-Length but no body', function () {
    const c = new Conn().recv('HEAD /h HTTP/1.1\r\n\r\n').send('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n').recv(req('/after')).send(res(200, 'x'));
    assert.deepEqual(c.pairs(), ['HEAD /h 200', 'GET /after 200']);
  });

  it('pipelining: several requests in one syscall, responses in one, paired in order', function () {
    const c = new Conn().recv(req('/1') + req('/2') + req('/3')).send(res(200, 'a') + res(404, 'b') + res(500, 'c'));
    assert.deepEqual(c.pairs(), ['GET /1 200', 'GET /2 404', 'GET /3 500']);
  });

  it('a response start beyond the capture with requests waiting: no pairing after, counted', function () {
    // 40 bytes: the second response's start is not visible, /2 waits for it
    const c = new Conn(Role.SERVER, 0, 40).recv(req('/1') + req('/2')).send(res(200, 'a') + res(200, 'b'));
    c.recv(req('/3')).send(res(201, 'c'));
    assert.deepEqual(c.pairs(), ['GET /1 200'], 'never /3 with the hidden answer of /2');
    assert.equal(c.count('framing_lost'), 1);
  });

  it('close without a response, and close mid-response: counted partials, no exchange', function () {
    const a = new Conn().recv(req('/x')).close();
    assert.equal(a.out.length, 0);
    assert.equal(a.count('partial_closed_without_response'), 1);
    const b = new Conn().recv(req('/y')).send('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc').close();
    assert.equal(b.out.length, 0);
    assert.equal(b.count('partial_closed_mid_response'), 1);
  });

  it('a response without length ends at close (HTTP/1.0 style)', function () {
    const c = new Conn(Role.CLIENT).send('GET /old HTTP/1.0\r\n\r\n').recv('HTTP/1.0 200 OK\r\n\r\n').recv('body...').close();
    assert.deepEqual(c.pairs(), ['GET /old 200']);
  });

  it('joined mid-stream: body bytes skipped, the unanswerable first exchange dropped, then pairs', function () {
    const c = new Conn(Role.SERVER, CONN_MIDSTREAM)
      .send('tail of an old body')         // skipped
      .recv(req('/seen-first'))             // cannot be trusted yet: a missed request may be pending
      .send(res(200, 'a'))                  // unmatched; with nothing pending the streams align
      .recv(req('/2')).send(res(404, 'b'));
    assert.deepEqual(c.pairs(), ['GET /2 404']);
    assert.equal(c.count('midstream_request'), 1);
    assert.equal(c.count('unmatched_response'), 1);
  });

  it('a head longer than one syscall is joined; a head cut by the capture ends at the next start', function () {
    const c = new Conn().recv('GET /split HTTP/1.1\r\nHo').recv('st: h\r\n\r\n').send(res(200, 'ok'));
    assert.deepEqual(c.pairs(), ['GET /split 200']);
    const big = `HTTP/1.1 200 OK\r\nX-Pad: ${'p'.repeat(2000)}\r\nContent-Length: 2\r\n\r\nok`;
    const d = new Conn(Role.SERVER, 0, 128).recv(req('/t')).send(big).recv(req('/u')).send(res(200, 'k'));
    assert.deepEqual(d.pairs(), ['GET /t 200', 'GET /u 200']);
    assert.equal(d.count('head_truncated'), 1);
  });

  it('records lost before a record (CONN_LOST): what was open is dropped and counted, no wrong pairing, then pairs again', function () {
    // the response to /1 was lost: /2 carries the flag, so /2's response is not taken for /1's
    const c = new Conn()
      .recv(req('/1'))
      .io(Direction.RECV, req('/2'), true)
      .send(res(202, 'b'))
      .recv(req('/3')).send(res(203, 'c'));
    assert.deepEqual(c.pairs(), ['GET /3 203']);
    assert.equal(c.count('partial_records_lost'), 1, '/1 dropped');
    assert.equal(c.count('midstream_request'), 1, '/2 not vouched for');
    // mid-body: the lost bytes break the Content-Length count; the next start is found again
    const d = new Conn(Role.CLIENT)
      .send(req('/a')).recv('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nxx')
      .io(Direction.SEND, req('/b'), true).recv(res(201, 'b'))
      .send(req('/c')).recv(res(204));
    assert.deepEqual(d.pairs(), ['GET /c 204']);
    assert.equal(d.count('partial_records_lost'), 1, '/a was mid-response');
  });

  it('records lost on a connection that pipelines: not paired again (a lost request may be answered after the next)', function () {
    const c = new Conn()
      .recv(req('/1') + req('/2'))
      .send(res(201, 'a'))
      .io(Direction.RECV, req('/4'), true) // /3 was lost
      .send(res(202, 'b'))
      .recv(req('/5')) // seen while 203 and 204 are still to come
      .send(res(203, 'c') + res(204) + res(205, 'e'));
    assert.deepEqual(c.pairs(), ['GET /1 201'], 'never /5 with 203');
    assert.equal(c.count('framing_lost'), 1);
    assert.equal(c.count('partial_records_lost'), 1, '/2 was waiting');
  });

  it('unsynced: every request seen meanwhile is answered before pairing starts again', function () {
    // joined mid-stream while two requests were pipelined: both answers come before /c's
    const c = new Conn(Role.SERVER, CONN_MIDSTREAM)
      .recv(req('/a') + req('/b'))
      .send(res(200, 'a')).send(res(201, 'b'))
      .recv(req('/c')).send(res(202, 'c'));
    assert.deepEqual(c.pairs(), ['GET /c 202']);
    assert.equal(c.count('desync'), 0);
  });

  it('a batch lost on the way to JS (recordsLost): every connection syncs again', function () {
    const c = new Conn().recv(req('/1'));
    c.tracker.recordsLost();
    c.send(res(200, 'a')).recv(req('/2')).send(res(201, 'b'));
    assert.deepEqual(c.pairs(), ['GET /2 201']);
    assert.equal(c.count('partial_records_lost'), 1);
    assert.equal(c.count('unmatched_response'), 1);
  });

  it('101 Switching Protocols: the exchange ends, the rest is not followed', function () {
    const c = new Conn().recv(req('/ws', 'Upgrade: websocket\r\n')).send('HTTP/1.1 101 Switching Protocols\r\n\r\n').recv('\x81\x05hello').send('GET / HTTP/1.1\r\n\r\n');
    assert.deepEqual(c.pairs(), ['GET /ws 101']);
  });
});

describe('ebpf_http heads, routes, query, traceparent', function () {
  it('keeps only the headers spans need (no Authorization, no Cookie)', function () {
    const h = parseHead(Buffer.from('GET /a HTTP/1.1\r\nAuthorization: Bearer s3cret\r\nCookie: a=b\r\nUser-Agent: ua/1\r\ntraceparent: 00-x\r\n\r\n'));
    assert.ok(h?.type === 'request');
    assert.equal(JSON.stringify(h).includes('s3cret'), false);
    assert.equal(JSON.stringify(h).includes('a=b'), false);
    assert.equal(h.headers.userAgent, 'ua/1');
  });

  it('routes: numbers, UUIDs and long hex ids become {id}', function () {
    assert.equal(routeOf('/users/42/orders/9f86d081884c7d65'), '/users/{id}/orders/{id}');
    assert.equal(routeOf('/u/123e4567-e89b-12d3-a456-426614174000/x'), '/u/{id}/x');
    assert.equal(routeOf('/api/v2/health'), '/api/v2/health');
    assert.equal(routeOf('/'), '/');
    assert.deepEqual(splitTarget('http://h:1/p?q=1'), { path: '/p', query: 'q=1' });
  });

  it('query redaction of known secret parameters', function () {
    assert.equal(redactQuery('a=1&token=x&Password=y&sig=z&api_key=k&access_token=t&auth=u&b'), 'a=1&token=REDACTED&Password=REDACTED&sig=REDACTED&api_key=REDACTED&access_token=REDACTED&auth=REDACTED&b');
  });

  it('traceparent: valid ids taken, invalid ones ignored', function () {
    const tp = parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    assert.equal(tp?.traceId.toString('hex'), '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01'), undefined);
    assert.equal(parseTraceparent('garbage'), undefined);
  });

  it('container.id from cgroup paths of common runtimes', function () {
    const id = 'a'.repeat(64);
    assert.equal(containerIdFromCgroup(`0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-${id}.scope\n`), id);
    assert.equal(containerIdFromCgroup(`0::/system.slice/docker-${id}.scope\n`), id);
    assert.equal(containerIdFromCgroup('0::/user.slice/user-0.slice/session-1.scope\n'), undefined);
  });

  it('config: attach and resource_attributes.process.command_line, defaults and errors', function () {
    const read = (raw: unknown) => readConfig(configSchema, raw);
    const d = read({});
    assert.equal(d.value.attach, 'auto');
    assert.equal(d.value.resource_attributes['process.command_line'].enabled, false);
    const on = read({ attach: 'tracepoint', resource_attributes: { 'process.command_line': { enabled: true } } });
    assert.deepEqual(on.issues, []);
    assert.equal(on.value.attach, 'tracepoint');
    assert.equal(on.value.resource_attributes['process.command_line'].enabled, true);
    const bad = read({ attach: 'kprob', resource_attributes: { 'process.command_lines': { enabled: true } } });
    assert.deepEqual(bad.issues.map((i) => [i.path.join('.'), i.message]).sort(), [
      ['attach', 'expected one of auto, sock_tracepoint, fentry, kprobe, tracepoint, got "kprob" (did you mean "kprobe"?)'],
      ['resource_attributes.process.command_lines', 'unknown key "process.command_lines" (did you mean "process.command_line"?)'],
    ]);
  });

  it('process.command_line: /proc/<pid>/cmdline, arguments joined by spaces', function () {
    assert.equal(commandLine(process.pid), [process.execPath, ...process.execArgv, ...process.argv.slice(1)].join(' '));
    assert.equal(commandLine(2 ** 22 + 1), undefined, 'no such process');
  });
});
