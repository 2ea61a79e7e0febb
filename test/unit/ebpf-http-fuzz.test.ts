// The ebpf_http user side (tracker, head parser, span builder) under generated input, seeded so a
// failure names the seed that reproduces it:
//  - damaged and random records never throw;
//  - well-formed keep-alive streams cut into syscalls at random points, captured at random
//    sizes, with records lost at random (flagged as the kernel flags them), never pair a request
//    with another request's response; with nothing lost and every byte captured, every exchange
//    is paired.
import * as assert from 'node:assert/strict';

import { kernelClock } from '../../native/clock';
import { parseHead } from '../../receivers/ebpf_http/http1';
import { CONN_LOST, CONN_MIDSTREAM, Direction, EventKind, Role, type HttpEvent } from '../../receivers/ebpf_http/record';
import { SpanBuilder } from '../../receivers/ebpf_http/spans';
import { HttpTracker, type Exchange } from '../../receivers/ebpf_http/tracker';
import { syscallRecord } from '../helpers/http-records';

/** mulberry32: a small seeded generator (reproducible failures). */
function rng(seed: number): { int(n: number): number; pick<T>(a: readonly T[]): T; chance(p: number): boolean } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n) => Math.floor(next() * n),
    pick: (arr) => arr[Math.floor(next() * arr.length)] as (typeof arr)[number],
    chance: (p) => next() < p,
  };
}

type Rng = ReturnType<typeof rng>;

const CAPTURE_MAX = 4096;

/** One syscall's record on connection `connKey` (see syscallRecord). */
function record(connKey: number, role: Role, direction: Direction, bytes: Buffer, capture: number, tsNs: number, flags = 0): HttpEvent {
  return syscallRecord({ connKey, role, direction, bytes, capture, tsNs, flags });
}

// ---- damaged input ---------------------------------------------------------------------------

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE', 'BREW'];
const ODD_LENGTHS = ['-1', '99999999999999999999', '1e3', ' 5', '0x10', '', '5, 6', 'NaN', '007'];

function damagedMessage(r: Rng): string {
  const request = r.chance(0.5);
  const lines = request
    ? [`${r.pick(METHODS)} ${r.pick(['/', '/a?b=c&token=x', '*', 'http://h/x', '/%zz', '/' + 'p'.repeat(r.int(3000))])} HTTP/1.${r.int(3)}`]
    : [`HTTP/1.${r.int(3)} ${r.pick(['200 OK', '100 Continue', '101 Switching', '204 No', '304 Not', '999 X', '2000 Y', 'abc', ''])}`];
  for (let i = r.int(6); i > 0; i--) {
    lines.push(r.pick([
      `Content-Length: ${r.pick(ODD_LENGTHS)}`, `Content-Length: ${r.int(100)}`, 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked',
      `Host: ${r.pick(['h', '[::1]:8080', 'h:99999', ':', ''])}`, `traceparent: ${r.pick(['00-' + 'a'.repeat(32) + '-' + 'b'.repeat(16) + '-01', 'zz', '00-0-0-0'])}`,
      `User-Agent: ${'u'.repeat(r.int(400))}`, 'Expect: 100-continue', 'Upgrade: websocket', 'no colon here', `X: ${'\u00ff'.repeat(3)}`,
    ]));
  }
  let body = '';
  if (r.chance(0.3)) body = `${r.pick(['5', 'zz', 'ffffffffffffffff', '0', '3;ext=1'])}\r\n${'d'.repeat(r.int(20))}\r\n${r.chance(0.5) ? '0\r\n\r\n' : ''}`;
  return lines.join(r.pick(['\r\n', '\n'])) + (r.chance(0.8) ? '\r\n\r\n' : '') + body;
}

function damagedBytes(r: Rng): Buffer {
  switch (r.int(4)) {
    case 0: {
      const b = Buffer.alloc(r.int(700));
      for (let i = 0; i < b.length; i++) b[i] = r.int(256);
      return b;
    }
    case 1: {
      const b = Buffer.from(damagedMessage(r), 'latin1');
      for (let i = r.int(4); i > 0 && b.length > 0; i--) b[r.int(b.length)] = r.int(256);
      return b;
    }
    case 2: return Buffer.from(damagedMessage(r) + damagedMessage(r), 'latin1');
    default: return Buffer.from(damagedMessage(r), 'latin1').subarray(0, r.int(60));
  }
}

describe('ebpf_http under generated input (seeded)', function () {
  it('damaged and random records: the tracker, the head parser and the span builder never throw', function () {
    const spans = new SpanBuilder(kernelClock(), { captureQuery: true, scopeVersion: 'fuzz' });
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const out: Exchange[] = [];
      const t = new HttpTracker({ maxConnections: 4, maxPendingRequests: 4, idleTimeoutMs: 1000 }, (x) => out.push(x), () => undefined, () => seed * 100);
      let ts = 1_000_000;
      try {
        for (let i = 0; i < 150; i++) {
          ts += r.chance(0.1) ? -r.int(1000) : r.int(1000);
          const bytes = damagedBytes(r);
          assert.doesNotThrow(() => parseHead(bytes));
          const e = record(1 + r.int(6), r.pick([Role.SERVER, Role.CLIENT, Role.UNKNOWN, 3 as Role]), r.pick([Direction.RECV, Direction.SEND]), bytes,
            r.pick([64, 100, 512, CAPTURE_MAX]), ts, r.int(16));
          if (r.chance(0.2)) e.total += r.pick([1, 100, 1 << 20, 2 ** 40]);
          if (r.chance(0.05)) e.kind = r.pick([EventKind.CLOSE, EventKind.EXEC, 0 as EventKind, 9 as EventKind]);
          t.handle(e);
          if (r.chance(0.02)) t.recordsLost();
          if (r.chance(0.02)) t.sweep();
        }
        t.clear();
        for (const x of out) {
          const s = spans.span(x);
          assert.ok(BigInt(String(s.endTimeUnixNano)) >= BigInt(String(s.startTimeUnixNano)));
        }
      } catch (e) {
        assert.fail(`seed ${seed}: ${e instanceof Error ? e.stack : String(e)}`);
      }
    }
  });

  // ---- well-formed streams ----------------------------------------------------------------------

  /** Statuses without special framing (no 1xx, 204, 304): a wrong pairing shows as a wrong status. */
  const STATUSES = [200, 201, 202, 203, 206, 400, 401, 403, 404, 409, 410, 500, 502, 503];
  const statusOf = (i: number): number => STATUSES[i % STATUSES.length] as number;

  function requestBytes(r: Rng, i: number): { bytes: string; method: string } {
    const method = r.pick(['GET', 'GET', 'POST', 'PUT', 'DELETE', 'HEAD']);
    const pad = r.chance(0.3) ? `X-Pad: ${'p'.repeat(r.int(300))}\r\n` : '';
    if (method !== 'POST' && method !== 'PUT') return { bytes: `${method} /r/${i} HTTP/1.1\r\nHost: h\r\n${pad}\r\n`, method };
    const body = 'b'.repeat(r.int(3000));
    return { bytes: `${method} /r/${i} HTTP/1.1\r\nHost: h\r\n${pad}${chunkedOr(r, body)}`, method };
  }

  function responseBytes(r: Rng, i: number, method: string): string {
    const body = 'r'.repeat(r.pick([0, 5, 300, 2000, 20_000]));
    const head = `HTTP/1.1 ${statusOf(i)} S\r\nDate: now\r\n`;
    if (method === 'HEAD') return `${head}Content-Length: ${body.length}\r\n\r\n`;
    return head + chunkedOr(r, body);
  }

  /** Header end and body: Content-Length, or chunked in random chunk sizes. */
  function chunkedOr(r: Rng, body: string): string {
    if (r.chance(0.6)) return `Content-Length: ${body.length}\r\n\r\n${body}`;
    let out = 'Transfer-Encoding: chunked\r\n\r\n';
    for (let o = 0; o < body.length;) {
      const n = Math.min(body.length - o, 1 + r.int(700));
      out += `${n.toString(16)}\r\n${body.slice(o, o + n)}\r\n`;
      o += n;
    }
    return `${out}0\r\n\r\n`;
  }

  interface StreamRun { pairs: string[]; expected: number; wrong: string[]; counts: string }

  /** One connection's exchanges, cut into syscalls; records dropped with probability `loss`. */
  function runStream(seed: number, opts: { loss: number; capture: number | 'random'; maxSyscall: number; depth: number }): StreamRun {
    const r = rng(seed);
    const out: Exchange[] = [];
    const counts = new Map<string, number>();
    const t = new HttpTracker({ maxConnections: 8, maxPendingRequests: 16, idleTimeoutMs: 60_000 }, (x) => out.push(x),
      (w, n = 1) => counts.set(w, (counts.get(w) ?? 0) + n), () => 0);
    const role = r.pick([Role.SERVER, Role.CLIENT]);
    const reqDir = role === Role.SERVER ? Direction.RECV : Direction.SEND;
    const resDir = role === Role.SERVER ? Direction.SEND : Direction.RECV;
    let ts = 1000;
    let lostBefore = false;
    let turns = 0;
    const emit = (dir: Direction, stream: string): void => {
      const all = Buffer.from(stream, 'latin1');
      for (let o = 0; o < all.length;) {
        const n = Math.min(all.length - o, 1 + r.int(opts.maxSyscall));
        const capture = opts.capture === 'random' ? r.pick([64, 128, 512, CAPTURE_MAX]) : opts.capture;
        ts += 1 + r.int(50);
        // no loss in the first turn of a pipelining connection: its pipelining is not seen yet
        if (opts.loss > 0 && turns > 0 && r.chance(opts.loss)) {
          lostBefore = true; // the kernel marks the connection; its next record carries the flag
        } else {
          t.handle(record(1, role, dir, all.subarray(o, o + n), capture, ts, lostBefore ? CONN_LOST : 0));
          lostBefore = false;
        }
        o += n;
      }
    };
    const total = 20 + r.int(40);
    for (let i = 0; i < total; turns++) {
      const d = Math.min(opts.depth, total - i);
      const reqs = Array.from({ length: d }, (_, k) => requestBytes(r, i + k));
      emit(reqDir, reqs.map((q) => q.bytes).join(''));
      emit(resDir, reqs.map((q, k) => responseBytes(r, i + k, q.method)).join(''));
      i += d;
    }
    const pairs = out.map((x) => `${x.request.target} ${x.response.status}`);
    const wrong = out.filter((x) => x.response.status !== statusOf(Number(x.request.target.split('/')[2]))).map((x) => `${x.request.target} ${x.response.status}`);
    return { pairs, expected: total, wrong, counts: JSON.stringify(Object.fromEntries(counts)) };
  }

  it('nothing lost, every byte captured: every exchange paired, in order (random syscall cuts, pipelining)', function () {
    for (let seed = 1; seed <= 200; seed++) {
      const run = runStream(seed, { loss: 0, capture: CAPTURE_MAX, maxSyscall: CAPTURE_MAX, depth: 1 + (seed % 3) });
      assert.deepEqual(run.wrong, [], `seed ${seed}`);
      assert.equal(run.pairs.length, run.expected, `seed ${seed}: ${run.counts}: ${run.pairs.join(', ')}`);
    }
  });

  it('random captures and lost records: never a wrong pairing', function () {
    let paired = 0, expected = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const depth = seed % 4 === 0 ? 2 + (seed % 3) : 1;
      const run = runStream(seed, { loss: 0.03, capture: 'random', maxSyscall: 8192, depth });
      assert.deepEqual(run.wrong, [], `seed ${seed} (depth ${depth}): ${run.counts}: ${run.pairs.join(', ')}`);
      paired += run.pairs.length;
      expected += run.expected;
    }
    // losses cost exchanges, not the tracking: most are still paired
    assert.ok(paired > expected / 3, `${paired} of ${expected} paired`);
  });

  it('joined mid-stream at a random byte: never a wrong pairing', function () {
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(seed);
      const out: Exchange[] = [];
      const t = new HttpTracker({ maxConnections: 8, maxPendingRequests: 16, idleTimeoutMs: 60_000 }, (x) => out.push(x), () => undefined, () => 0);
      // one side's turns as [direction, bytes], then the connection is joined at a random turn
      const turns: [Direction, string][] = [];
      for (let i = 0; i < 30; i++) {
        const q = requestBytes(r, i);
        turns.push([Direction.RECV, q.bytes], [Direction.SEND, responseBytes(r, i, q.method)]);
      }
      let ts = 1000;
      for (const [dir, s] of turns.slice(1 + r.int(20))) {
        const all = Buffer.from(s, 'latin1');
        for (let o = r.chance(0.3) ? r.int(all.length) : 0; o < all.length;) {
          const n = Math.min(all.length - o, 1 + r.int(4096));
          t.handle(record(1, Role.SERVER, dir, all.subarray(o, o + n), 512, (ts += 10), CONN_MIDSTREAM));
          o += n;
        }
      }
      const wrong = out.filter((x) => x.response.status !== statusOf(Number(x.request.target.split('/')[2])));
      assert.deepEqual(wrong.map((x) => `${x.request.target} ${x.response.status}`), [], `seed ${seed}`);
    }
  });
});
