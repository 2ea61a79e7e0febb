// Per-connection HTTP/1.x tracking from syscall records: frames messages from byte counts (only
// the first bytes of each syscall are captured), pairs requests and responses in order, and hands
// complete exchanges on. What cannot be known is counted, never guessed:
//  - a body's end is exact with Content-Length (byte counts) and with chunked encoding while the
//    chunk-size lines fall inside captured bytes; otherwise the end of a chunked body is the
//    syscall whose last bytes are "0\r\n\r\n" (the record's tail), else the next message start
//    (counted as `end_inferred`);
//  - a head cut by the capture size ends where the next message starts (`head_truncated`);
//  - a connection joined mid-stream is "unsynced" until a response ends with no request left
//    unanswered: requests seen before are dropped (`midstream`), so a response can never be paired
//    with a request it does not answer (except when two or more requests were pipelined before
//    Sonde started: documented, not detectable from the bytes).
//  - records lost on the way (the kernel's ring full: the next record of that connection says
//    so; a batch the reader dropped: every connection) leave a gap in the byte counts: what was
//    open is dropped (`partial_records_lost`) and the connection syncs again as one joined
//    mid-stream, once every request seen meanwhile is answered; a connection that has pipelined
//    is not paired again (`framing_lost`): a lost request's response could come after the next
//    one's. Left: a connection whose first pipelining is right where records were lost.
import { parseHead, responseHasNoBody, startKind, startPrefix, type MessageHead, type RequestHead, type ResponseHead } from './http1';
import { CONN_LOST, CONN_MIDSTREAM, CONN_NO_TUPLE, CONN_TLS, dataOf, Direction, EventKind, Role, type HttpEvent } from './record';

/** One request and its response on one connection. */
export interface Exchange {
  conn: ConnInfo;
  request: RequestHead;
  response: ResponseHead;
  /** kernel time of the request's first byte and of the response's last byte (HttpEvent.tsNs) */
  startNs: number;
  endNs: number;
}

export interface ConnInfo {
  id: bigint;
  tgid: number;
  /** the kernel's name of the thread that opened it (fallback when /proc has no process any more) */
  comm: string;
  role: Role.SERVER | Role.CLIENT;
  laddr: string;
  lport: number;
  raddr: string;
  rport: number;
  /** TLS plaintext (url.scheme https) */
  tls: boolean;
  /** the addresses are not known (a TLS connection whose socket was not seen) */
  noTuple: boolean;
}

/** Reasons counted by the tracker (self-metrics). */
export type TrackerCount =
  | 'requests' | 'responses' | 'exchanges'
  | 'unmatched_response' | 'midstream_request' | 'skipped_out_of_sync'
  | 'partial_closed_without_response' | 'partial_closed_mid_response' | 'partial_idle_timeout'
  | 'partial_evicted' | 'partial_pending_overflow' | 'partial_upgraded' | 'partial_framing_lost' | 'partial_records_lost'
  | 'head_truncated' | 'end_inferred' | 'desync' | 'framing_lost';

type Body =
  | { kind: 'none' }
  | { kind: 'length'; remaining: number }
  | { kind: 'chunked'; phase: 'size' | 'data' | 'crlf' | 'trailers' | 'lost'; remaining: number; line: string }
  /** the end is unknown: the next message start (or close) ends it */
  | { kind: 'until_next' }
  /** no length and not chunked (a response read until the connection closes) */
  | { kind: 'until_close' };

/** Bodies without state, shared (only 'length' and 'chunked' bodies count down) */
const NO_BODY: Body = Object.freeze({ kind: 'none' });
const UNTIL_NEXT: Body = Object.freeze({ kind: 'until_next' });
const UNTIL_CLOSE: Body = Object.freeze({ kind: 'until_close' });

interface Message {
  head?: MessageHead;
  /** captured bytes of a head that continues in the next syscall */
  partialHead?: Buffer;
  startNs: number;
  lastNs: number;
  body: Body;
  /** the request this response answers (undefined: unmatched, framed and discarded) */
  request?: PendingRequest;
}

interface PendingRequest {
  head: RequestHead;
  startNs: number;
}

interface Stream {
  /** the message being read, or undefined between messages */
  msg?: Message;
  /** the last complete head parsed on this stream and its bytes: a client repeats its request
   * heads, a server its response heads (within a second: Date), byte for byte */
  lastHead?: MessageHead;
  lastBytes?: Buffer;
  /** out of sync: skip until a message start at a syscall boundary */
  skipping: boolean;
}

interface Conn {
  info: ConnInfo;
  requests: Stream;
  responses: Stream;
  pending: PendingRequest[];
  synced: boolean;
  /** a TLS connection whose socket is not known yet: whether its start was seen is unknown, so
   * its requests wait as tentative until the kernel tells (its socket found) */
  tentative: boolean;
  upgraded: boolean;
  /** framing lost on a synced connection (a message start beyond the capture, bytes that are
   * no message): nothing more on it is paired */
  blind: boolean;
  /** two requests were waiting at once: after lost records, which response answers which
   * cannot be counted off, so such a connection is not paired again */
  pipelined: boolean;
  /** requests seen while unsynced that no response has answered yet: the connection syncs
   * again only once they are all answered */
  unanswered: number;
  lastSeenMs: number;
}

export interface TrackerOptions {
  maxConnections: number;
  maxPendingRequests: number;
  idleTimeoutMs: number;
}

const MAX_HEAD_BYTES = 16 * 1024;
const CHUNK_END = Buffer.from('0\r\n\r\n', 'latin1');

export class HttpTracker {
  private readonly conns = new Map<number, Conn>();
  /** the connection of the last record (a process often makes several syscalls in a row on one) */
  private lastKey = -1;
  private lastConn: Conn | undefined;
  /** performance.now() of the batch being handled (one clock read per batch, not per record) */
  private batchNow: number | undefined;

  constructor(
    private readonly opts: TrackerOptions,
    private readonly onExchange: (e: Exchange) => void,
    private readonly count: (what: TrackerCount, n?: number) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.conns.size;
  }

  /** Records until endBatch() share one clock reading. */
  beginBatch(): void {
    this.batchNow = this.now();
  }

  endBatch(): void {
    this.batchNow = undefined;
  }

  /** Feeds one kernel record (its data buffer is only borrowed). */
  handle(e: HttpEvent): void {
    if (e.kind === EventKind.CLOSE) {
      this.close(e.connKey ?? Number(e.connId), 'close');
      return;
    }
    if (e.kind !== EventKind.DATA || (e.role !== Role.SERVER && e.role !== Role.CLIENT)) return;
    const c = this.conn(e);
    // the kernel sends the thread name with a connection's first data record only
    if (c.info.comm === '') c.info.comm = e.comm;
    if (c.info.noTuple && (e.flags & CONN_NO_TUPLE) === 0) {
      // a TLS connection learned its socket after its first record
      Object.assign(c.info, { laddr: e.laddr, lport: e.lport, raddr: e.raddr, rport: e.rport, noTuple: false });
      if (c.tentative) this.settle(c, (e.flags & CONN_MIDSTREAM) === 0);
    }
    if (c.upgraded || c.blind) return;
    if ((e.flags & CONN_LOST) !== 0) this.lostRecords(c);
    c.lastSeenMs = this.batchNow ?? this.now();
    const requestSide = (e.role === Role.SERVER) === (e.direction === Direction.RECV);
    this.feed(c, requestSide ? c.requests : c.responses, requestSide, e);
  }

  private conn(e: HttpEvent): Conn {
    const key = e.connKey ?? Number(e.connId);
    if (key === this.lastKey && this.lastConn) return this.lastConn;
    let c = this.conns.get(key);
    if (c) {
      this.lastKey = key;
      this.lastConn = c;
      return c;
    }
    if (this.conns.size >= this.opts.maxConnections) {
      const oldest = this.conns.keys().next().value;
      if (oldest !== undefined) this.close(oldest, 'evicted');
    }
    c = {
      info: {
        id: e.connId, tgid: e.tgid, comm: e.comm, role: e.role as Role.SERVER | Role.CLIENT, laddr: e.laddr, lport: e.lport, raddr: e.raddr, rport: e.rport,
        tls: (e.flags & CONN_TLS) !== 0, noTuple: (e.flags & CONN_NO_TUPLE) !== 0,
      },
      requests: { skipping: false },
      responses: { skipping: false },
      pending: [],
      synced: (e.flags & CONN_MIDSTREAM) === 0,
      tentative: (e.flags & (CONN_TLS | CONN_NO_TUPLE | CONN_MIDSTREAM)) === (CONN_TLS | CONN_NO_TUPLE | CONN_MIDSTREAM),
      upgraded: false,
      blind: false,
      pipelined: false,
      unanswered: 0,
      lastSeenMs: this.batchNow ?? this.now(),
    };
    this.conns.set(key, c);
    return c;
  }

  /** Walks the syscall's bytes: message starts, heads, bodies, as far as the counts go. */
  private feed(c: Conn, s: Stream, requestSide: boolean, e: HttpEvent): void {
    let pos = 0;
    const total = e.total;
    const captured = e.captured;
    let guard = 0;
    while (pos < total && guard++ < 1024) {
      const m = s.msg;
      if (m?.partialHead) {
        pos = this.continueHead(c, s, m, requestSide, e);
        continue;
      }
      if (!m || m.body.kind === 'none' || m.body.kind === 'until_next' || m.body.kind === 'until_close' || (m.body.kind === 'chunked' && m.body.phase === 'lost' && pos === 0)) {
        const kind = pos < captured ? startKind(e.bytes, e.dataStart + pos, e.dataStart + captured) : undefined;
        const expected = requestSide ? 'request' : 'response';
        // between messages, a start line cut by the end of the syscall goes on in the next one
        const cutStart = !m && kind === undefined && captured === total && startPrefix(e.bytes, e.dataStart + pos, e.dataStart + captured, expected);
        if (kind === expected || cutStart) {
          if (m) this.endMessage(c, s, m, requestSide, m.lastNs, m.body.kind === 'none' ? undefined : 'end_inferred');
          s.skipping = false;
          pos = this.beginMessage(c, s, requestSide, e, pos);
          continue;
        }
        if (m && m.body.kind !== 'none') {
          // the open-ended body goes on
          m.lastNs = e.tsNs;
          if (m.body.kind === 'chunked') this.checkChunkTail(c, s, m, requestSide, e);
          return;
        }
        if (c.synced && (pos > 0 || !s.skipping)) {
          // a message start we cannot see (beyond the capture) or bytes that start no message:
          // what follows cannot be paired with certainty
          this.blind(c);
          return;
        }
        if (!s.skipping) this.count('skipped_out_of_sync');
        s.skipping = true;
        if (m) s.msg = undefined;
        return;
      }
      pos = this.body(c, s, m, requestSide, e, pos);
    }
  }

  private beginMessage(c: Conn, s: Stream, requestSide: boolean, e: HttpEvent, pos: number): number {
    // every field from the start: one object shape for all messages, no growth when filled in
    const m: Message = { head: undefined, partialHead: undefined, startNs: e.tsNs, lastNs: e.tsNs, body: NO_BODY, request: undefined };
    s.msg = m;
    const captured = e.captured - pos;
    const head = headAt(s, e.bytes, e.dataStart + pos, e.dataStart + e.captured);
    if (head?.headLength !== undefined) {
      this.headParsed(c, s, m, head, requestSide);
      return pos + head.headLength;
    }
    if (e.captured === e.total && captured <= MAX_HEAD_BYTES) {
      // every byte is here: the head continues in the next syscall
      m.partialHead = Buffer.from(e.bytes.subarray(e.dataStart + pos, e.dataStart + e.captured));
      return e.total;
    }
    // the capture cut the head: what it says so far is all there is
    this.count('head_truncated');
    if (head) this.headParsed(c, s, m, head, requestSide);
    if (s.msg === m) m.body = UNTIL_NEXT;
    // the bytes after the capture may hold whole messages, even when this one ended
    this.endUnknown(c, requestSide);
    return e.total;
  }

  private continueHead(c: Conn, s: Stream, m: Message, requestSide: boolean, e: HttpEvent): number {
    const prev = m.partialHead as Buffer;
    const joined = Buffer.concat([prev, dataOf(e)]);
    m.partialHead = undefined;
    m.lastNs = e.tsNs;
    const head = parseHead(joined);
    if (head?.headLength !== undefined) {
      this.headParsed(c, s, m, head, requestSide);
      return head.headLength - prev.length;
    }
    const expected = requestSide ? 'request' : 'response';
    if (!head && startKind(joined) === undefined && !startPrefix(joined, 0, joined.length, expected)) {
      // the cut start line went on as something else: bytes that start no message
      s.msg = undefined;
      if (c.synced) this.blind(c);
      else s.skipping = true;
      return e.total;
    }
    if (e.captured === e.total && joined.length <= MAX_HEAD_BYTES) {
      m.partialHead = joined;
      return e.total;
    }
    this.count('head_truncated');
    if (head) this.headParsed(c, s, m, head, requestSide);
    else s.msg = undefined;
    if (s.msg === m) m.body = UNTIL_NEXT;
    this.endUnknown(c, requestSide);
    return e.total;
  }

  /** A tentative connection is decided: seen from its start (its requests stand) or not (dropped). */
  private settle(c: Conn, fromStart: boolean): void {
    c.tentative = false;
    if (fromStart) {
      c.synced = true;
      return;
    }
    if (c.pending.length > 0) this.count('midstream_request', c.pending.length);
    c.unanswered = c.pending.length;
    c.pending = [];
  }

  /** Records of this connection were lost before the next one: byte-count framing has a gap, so
   * what is open is dropped (counted) and the connection syncs again as one joined mid-stream
   * (one that has pipelined is not paired again). */
  private lostRecords(c: Conn): void {
    if (c.upgraded || c.blind) return;
    const open = c.pending.length + (c.responses.msg?.request ? 1 : 0);
    if (open > 0) this.count('partial_records_lost', open);
    c.pending = [];
    c.unanswered = 0;
    if (c.pipelined) {
      // requests may be on their way unseen, answered after the next response: no count of
      // responses tells when the streams line up again
      this.blind(c);
      return;
    }
    for (const s of [c.requests, c.responses]) {
      s.msg = undefined;
      s.skipping = true;
    }
    c.synced = false;
    c.tentative = false;
  }

  /** A record that could not be handled (a parser error) counts as lost for its connection. */
  recordFailed(e: HttpEvent): void {
    const c = this.conns.get(e.connKey ?? Number(e.connId));
    if (c) this.lostRecords(c);
  }

  /** Records were lost somewhere (a batch dropped on the way to JS): every connection syncs again. */
  recordsLost(): void {
    for (const c of this.conns.values()) this.lostRecords(c);
  }

  /** The current message's end will be inferred (the next start, or a chunked body's last
   * bytes): the bytes not seen may hold whole messages. With answers still due, or from a client
   * that pipelines, what follows cannot be paired with certainty. */
  private endUnknown(c: Conn, requestSide: boolean): void {
    if (c.synced && (requestSide ? c.pipelined : c.pending.length > 0)) this.blind(c);
  }

  private blind(c: Conn): void {
    c.blind = true;
    this.count('framing_lost');
    if (c.pending.length > 0) this.count('partial_framing_lost', c.pending.length);
    c.pending = [];
  }

  /** A complete (or cut) head: pairing and body framing. */
  private headParsed(c: Conn, s: Stream, m: Message, head: MessageHead, requestSide: boolean): void {
    m.head = head;
    if (head.type === 'request' && requestSide) {
      this.count('requests');
      m.body = requestBody(head);
      if (!c.synced && !c.tentative) {
        this.count('midstream_request');
        if (++c.unanswered > 1) c.pipelined = true;
      } else {
        if (c.pending.length >= this.opts.maxPendingRequests) {
          c.pending.shift();
          this.count('partial_pending_overflow');
        }
        c.pending.push({ head, startNs: m.startNs });
        if (c.pending.length > 1) c.pipelined = true;
      }
      if (m.body.kind === 'none') this.endMessage(c, s, m, true, m.lastNs);
      return;
    }
    if (head.type === 'response' && !requestSide) {
      const informational = head.status >= 100 && head.status < 200 && head.status !== 101;
      if (!informational) {
        this.count('responses');
        // still no socket when the answer comes: the start cannot be vouched for
        if (c.tentative) this.settle(c, false);
        m.request = c.pending.shift();
        if (!m.request) {
          this.count('unmatched_response');
          if (c.unanswered > 0) c.unanswered--;
          if (c.synced) {
            // a response nobody asked for on a tracked connection: records were lost
            this.count('desync');
            c.synced = false;
          }
        }
      }
      m.body = responseBody(head, m.request?.head.method);
      if (head.status === 101 && m.request) {
        // the connection switches protocols: this exchange ends here, the rest is not HTTP/1
        this.endMessage(c, s, m, false, m.lastNs);
        c.upgraded = true;
        this.count('partial_upgraded', c.pending.length);
        c.pending = [];
        return;
      }
      if (m.body.kind === 'none') this.endMessage(c, s, m, false, m.lastNs);
      return;
    }
    // a request on the response side or the reverse: not this connection's direction
    s.msg = undefined;
    s.skipping = true;
    this.count('skipped_out_of_sync');
  }

  /** Consumes body bytes from `pos`; returns the new position. */
  private body(c: Conn, s: Stream, m: Message, requestSide: boolean, e: HttpEvent, pos: number): number {
    const b = m.body;
    m.lastNs = e.tsNs;
    if (b.kind === 'length') {
      const n = Math.min(b.remaining, e.total - pos);
      b.remaining -= n;
      if (b.remaining === 0) this.endMessage(c, s, m, requestSide, e.tsNs);
      return pos + n;
    }
    if (b.kind !== 'chunked') return e.total;
    switch (b.phase) {
      case 'data': {
        const n = Math.min(b.remaining, e.total - pos);
        b.remaining -= n;
        if (b.remaining === 0) {
          b.phase = 'crlf';
          b.remaining = 2;
        }
        return pos + n;
      }
      case 'crlf': {
        const n = Math.min(b.remaining, e.total - pos);
        b.remaining -= n;
        if (b.remaining === 0) b.phase = 'size';
        return pos + n;
      }
      case 'size':
      case 'trailers':
        return this.chunkLine(c, s, m, b, requestSide, e, pos);
      case 'lost':
        this.checkChunkTail(c, s, m, requestSide, e);
        return e.total;
    }
  }

  /** A chunk-size or trailer line at `pos`, when it lies inside the captured bytes. */
  private chunkLine(c: Conn, s: Stream, m: Message, b: Extract<Body, { kind: 'chunked' }>, requestSide: boolean, e: HttpEvent, pos: number): number {
    const data = dataOf(e);
    if (pos >= data.length) {
      // the line is beyond the capture: fall back to the body's last bytes
      this.chunksLost(c, s, m, b, requestSide, e);
      return e.total;
    }
    // a line ends at LF (its CR may be the last byte of the syscall before: a CRLF split in two)
    const eol = data.indexOf(0x0a, pos);
    if (eol < 0) {
      if (data.length === e.total && b.line.length < 256) {
        b.line += data.toString('latin1', pos); // the line goes on in the next syscall
        return e.total;
      }
      this.chunksLost(c, s, m, b, requestSide, e);
      return e.total;
    }
    let line = b.line + data.toString('latin1', pos, eol);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    b.line = '';
    if (b.phase === 'trailers') {
      if (line === '') this.endMessage(c, s, m, requestSide, e.tsNs);
      return eol + 1;
    }
    const size = parseInt(line.split(';')[0]?.trim() ?? '', 16);
    if (!Number.isFinite(size)) {
      this.chunksLost(c, s, m, b, requestSide, e);
      return e.total;
    }
    if (size === 0) b.phase = 'trailers';
    else {
      b.phase = 'data';
      b.remaining = size;
    }
    return eol + 1;
  }

  /** The chunk lines are out of sight: the body's end is looked for in its syscalls' last bytes. */
  private chunksLost(c: Conn, s: Stream, m: Message, b: Extract<Body, { kind: 'chunked' }>, requestSide: boolean, e: HttpEvent): void {
    b.phase = 'lost';
    this.endUnknown(c, requestSide);
    if (!c.blind) this.checkChunkTail(c, s, m, requestSide, e);
  }

  /** A chunked body whose framing was lost ends in the syscall whose bytes end with "0\r\n\r\n". */
  private checkChunkTail(c: Conn, s: Stream, m: Message, requestSide: boolean, e: HttpEvent): void {
    const last = e.captured === e.total ? dataOf(e) : e.tail;
    if (last.length >= CHUNK_END.length && last.subarray(last.length - CHUNK_END.length).equals(CHUNK_END)) {
      this.endMessage(c, s, m, requestSide, e.tsNs);
    }
  }

  /** A message is complete: a response completes its exchange. */
  private endMessage(c: Conn, s: Stream, m: Message, requestSide: boolean, endNs: number, reason?: TrackerCount): void {
    if (s.msg === m) s.msg = undefined;
    if (reason) this.count(reason);
    if (requestSide || !m.head || m.head.type !== 'response') return;
    const head = m.head;
    if (head.status >= 100 && head.status < 200 && head.status !== 101) return;
    if (!m.request) {
      // an unmatched response ended: with nothing left unanswered the streams are aligned again
      if (!c.synced && c.pending.length === 0 && c.unanswered === 0 && !c.requests.msg) c.synced = true;
      return;
    }
    this.count('exchanges');
    this.onExchange({ conn: c.info, request: m.request.head, response: head, startNs: m.request.startNs, endNs });
  }

  /** The connection ended (close record, eviction, idle timeout). */
  private close(id: number, why: 'close' | 'evicted' | 'idle'): void {
    const c = this.conns.get(id);
    if (!c) return;
    this.conns.delete(id);
    if (this.lastConn === c) this.lastConn = undefined;
    if (c.blind || c.upgraded) return;
    const m = c.responses.msg;
    if (m && !m.partialHead && (m.body.kind === 'until_close' || m.body.kind === 'until_next') && why === 'close') {
      this.endMessage(c, c.responses, m, false, m.lastNs, m.body.kind === 'until_next' ? 'end_inferred' : undefined);
    } else if (m?.request) {
      this.count(why === 'close' ? 'partial_closed_mid_response' : why === 'idle' ? 'partial_idle_timeout' : 'partial_evicted');
    }
    if (c.pending.length > 0) {
      this.count(why === 'close' ? 'partial_closed_without_response' : why === 'idle' ? 'partial_idle_timeout' : 'partial_evicted', c.pending.length);
    }
  }

  /** Forgets connections silent for longer than the idle timeout. */
  sweep(): void {
    const limit = this.now() - this.opts.idleTimeoutMs;
    for (const [id, c] of this.conns) if (c.lastSeenMs < limit) this.close(id, 'idle');
  }

  /** Counts what is still open as partial (shutdown). */
  clear(): void {
    for (const id of [...this.conns.keys()]) this.close(id, 'idle');
  }
}

/** Longest head kept for the comparison with the next one. */
const MAX_CACHED_HEAD = 1024;

/** The head at b[from, end): the stream's last one when the bytes are the same (a parse is
 * deterministic on a head's bytes; heads are never changed once parsed), else parsed. */
function headAt(s: Stream, b: Buffer, from: number, end: number): MessageHead | undefined {
  const prev = s.lastBytes;
  if (prev !== undefined && sameBytes(prev, b, from, end)) return s.lastHead;
  const head = parseHead(b, from, end);
  if (head?.headLength !== undefined && head.headLength <= MAX_CACHED_HEAD) {
    s.lastHead = head;
    s.lastBytes = Buffer.from(b.subarray(from, from + head.headLength));
  }
  return head;
}

/** Whether b[from, end) starts with `prev` (a native compare: ~4x a JavaScript byte loop's
 * speed on a few hundred bytes). */
function sameBytes(prev: Buffer, b: Buffer, from: number, end: number): boolean {
  const n = prev.length;
  return end - from >= n && b.compare(prev, 0, n, from, from + n) === 0;
}

function requestBody(h: RequestHead): Body {
  if (h.headers.chunked) return { kind: 'chunked', phase: 'size', remaining: 0, line: '' };
  if (h.headers.contentLength !== undefined && h.headers.contentLength > 0) return { kind: 'length', remaining: h.headers.contentLength };
  return NO_BODY;
}

function responseBody(h: ResponseHead, method: string | undefined): Body {
  if (responseHasNoBody(h.status, method)) return NO_BODY;
  if (h.headers.chunked) return { kind: 'chunked', phase: 'size', remaining: 0, line: '' };
  if (h.headers.contentLength !== undefined) return h.headers.contentLength > 0 ? { kind: 'length', remaining: h.headers.contentLength } : NO_BODY;
  return UNTIL_CLOSE;
}
