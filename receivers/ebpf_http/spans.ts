// Exchanges -> OTLP spans with the HTTP semantic conventions, grouped by process (resource).
import { randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';

import Long from 'long';

import type { KernelClock } from '../../native/clock';
import { processInfo } from '../../pipeline/ebpf/proc';
import { preEncodeKeyValue, preEncodeKeyValueList } from '../../pipeline/otlp/fast-encode';
import { SpanKind, StatusCode, type KeyValue, type ResourceSpans, type Span, type TracesData } from '../../pipeline/pdata';
import { containerId } from './container';
import { redactQuery, routeOf, parseTraceparent, splitTarget } from './route';
import { Role } from './record';
import type { RequestHead } from './http1';
import type { ConnInfo, Exchange } from './tracker';

const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): KeyValue => ({ key, value: { intValue: v } });

/**
 * Attribute values that repeat from span to span (constants, a connection's addresses, a
 * route, a status code, a Host or User-Agent value) are built once and shared by the spans
 * that carry them: most of a span's objects are then not allocated (nor collected) per span.
 * Shared objects are frozen, so a consumer that would change one in place (rather than declare
 * mutatesData and get its own copy) fails loudly instead of changing other spans; they carry
 * their protobuf bytes, which the OTLP encoder copies.
 */
const shared = (kv: KeyValue): KeyValue => preEncodeKeyValue(kv);
const sstr = (key: string, v: string): KeyValue => shared(str(key, v));
const sint = (key: string, v: number): KeyValue => shared(int(key, v));

const PROTOCOL_NAME = sstr('network.protocol.name', 'http');
const TRANSPORT = sstr('network.transport', 'tcp');
const SCHEME_HTTP = sstr('url.scheme', 'http');
const SCHEME_HTTPS = sstr('url.scheme', 'https');
const VERSION_11 = sstr('network.protocol.version', '1.1');
const VERSION_10 = sstr('network.protocol.version', '1.0');
/** a span's status, events and links: the same few values on every span, shared like the rest */
const STATUS_UNSET: Span['status'] = Object.freeze({ code: StatusCode.UNSET });
const STATUS_ERROR: Span['status'] = Object.freeze({ code: StatusCode.ERROR });
const NO_EVENTS = Object.freeze([]) as unknown as Span['events'];
const NO_LINKS = Object.freeze([]) as unknown as Span['links'];

/** Values kept per cache before it starts over (paths, Host and User-Agent values). */
const MAX_CACHED = 4096;

/** A bounded string -> value cache: cleared when full (the same few values come back). */
class Cache<V> {
  private readonly m = new Map<string, V>();

  get(k: string, make: (k: string) => V): V {
    let v = this.m.get(k);
    if (v === undefined) {
      v = make(k);
      if (this.m.size >= MAX_CACHED) this.m.clear();
      this.m.set(k, v);
    }
    return v;
  }
}

/** The shared attributes of one request path (its route, and span names by method). */
interface PathParts {
  route: string;
  path: KeyValue;
  httpRoute: KeyValue;
  /** method -> [http.request.method, span name] */
  byMethod: Map<string, [KeyValue, string]>;
}

/** The shared attributes of one connection, rebuilt when its addresses change (TLS learning
 * its socket). */
interface ConnParts {
  laddr: string;
  raddr: string;
  lport: number;
  rport: number;
  /** network.peer.*, network.local.* (and client.* on the server side) */
  tuple: KeyValue[];
  /** server.address/port from the socket, when no Host header names them */
  server: KeyValue[];
  /** the attribute list of the connection's last span, with what it was made of */
  last?: SharedAttributes;
  /** the parts of the connection's last request head (a keep-alive peer repeats its heads, and
   * the tracker hands the same parsed head again for the same bytes) */
  lastRequest?: RequestParts;
}

/** What a span takes from its request head, looked up once per distinct head. */
interface RequestParts {
  head: RequestHead;
  path: PathParts;
  query: string | undefined;
  /** [http.request.method, span name] */
  method: [KeyValue, string];
  host: KeyValue[] | undefined;
  agent: KeyValue | undefined;
}

/** A span's whole attribute list, shared by the spans of a connection that repeat its request
 * and status (a keep-alive client asks for the same thing again and again), and the shared
 * parts it was built from (compared by identity). */
interface SharedAttributes {
  method: KeyValue;
  path: PathParts;
  status: KeyValue;
  version: KeyValue;
  host: KeyValue[] | undefined;
  agent: KeyValue | undefined;
  list: KeyValue[];
}

const U32 = 0xffffffffn;
const TWO32 = 4294967296;
/** Epoch nanoseconds -> unsigned Long from its two halves (no decimal string round trip). */
const longOf = (ns: bigint): Long => Long.fromBits(Number(ns & U32), Number((ns >> 32n) & U32), true);

/** Random bytes per refill: a randomFillSync call costs far more than its bytes (a job object,
 * the DRBG's locking), so one call serves ~2 700 spans. */
const ID_POOL_BYTES = 64 * 1024;

/** Random ids from a pool refilled in bulk (one crypto call per 64 KiB of ids), handed out as
 * Uint8Array views (pdata's type: nothing downstream needs Buffer methods on an id). */
class IdSource {
  /** the pool's ArrayBuffer, kept: a typed array's .buffer is a runtime call */
  private pool = new ArrayBuffer(ID_POOL_BYTES);
  private pos = this.pool.byteLength;

  take(n: number): Uint8Array {
    if (this.pos + n > this.pool.byteLength) {
      this.pool = new ArrayBuffer(ID_POOL_BYTES);
      randomFillSync(new Uint8Array(this.pool));
      this.pos = 0;
    }
    const b = new Uint8Array(this.pool, this.pos, n);
    this.pos += n;
    return b;
  }
}

export interface SpanOptions {
  captureQuery: boolean;
  scopeVersion: string;
  /** process.command_line on the resource (opt-in: arguments may hold secrets) */
  commandLine?: boolean;
}

/** Longest process.command_line kept (the kernel caps what it shows anyway, at a page or more). */
export const MAX_COMMAND_LINE = 4096;

/** /proc/<pid>/cmdline as one string: arguments joined by spaces (undefined if unreadable). */
export function commandLine(pid: number): string | undefined {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(`/proc/${pid}/cmdline`);
  } catch {
    return undefined; // gone, or not ours to read
  }
  let end = raw.length;
  while (end > 0 && raw[end - 1] === 0) end--; // the last argument's terminator
  if (end === 0) return undefined; // kernel threads and zombies have none
  const s = raw.toString('utf8', 0, end).replace(/\0/g, ' ');
  return s.length > MAX_COMMAND_LINE ? s.slice(0, MAX_COMMAND_LINE) : s;
}

/** "host:port" -> host, with IPv6 brackets removed. */
function hostOnly(h: string): { host: string; port?: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(h) ?? /^([^:]+)(?::(\d+))?$/.exec(h);
  if (!m) return { host: h };
  return m[2] ? { host: m[1] as string, port: Number(m[2]) } : { host: m[1] as string };
}

/** A Host header's server.address (and server.port when it names one), shared. */
function hostParts(h: string): KeyValue[] {
  const { host, port } = hostOnly(h);
  return port === undefined ? [sstr('server.address', host)] : [sstr('server.address', host), sint('server.port', port)];
}

export class SpanBuilder {
  private readonly ids = new IdSource();
  private readonly resources = new Map<number, KeyValue[]>();
  private readonly hostName = os.hostname();
  private readonly paths = new Cache<PathParts>();
  /** request target -> its path's parts and its query (a client repeats its targets) */
  private readonly targets = new Cache<{ parts: PathParts; query: string | undefined }>();
  private readonly hosts = new Cache<KeyValue[]>();
  private readonly agents = new Cache<KeyValue>();
  /** http.response.status_code by status (three digits: an array, no hashing) */
  private readonly statuses: (KeyValue | undefined)[] = [];
  private readonly conns = new WeakMap<object, ConnParts>();
  /** the clock offset (realtime - monotonic) the spans use, and its two u32 halves */
  private offset = 0n;
  private offLo = 0;
  private offHi = 0;
  private clockSynced = false;

  constructor(
    private readonly clock: KernelClock,
    private readonly opts: SpanOptions,
  ) {}

  /** Takes the clock's current offset for the spans that follow: once per batch of records, not
   * per span (the clock itself re-measures it every minute). */
  syncClock(): void {
    const off = this.clock.offsetNs();
    this.clockSynced = true;
    if (off === this.offset) return;
    this.offset = off;
    this.offLo = Number(off & U32);
    this.offHi = Number((off >> 32n) & U32);
  }

  /** A kernel time as an epoch-time Long: the offset's halves added with a carry, no BigInt
   * arithmetic per span. */
  private epoch(k: number): Long {
    if (!this.clockSynced) this.syncClock();
    if (this.offset < 0n) return longOf(BigInt(k) + this.offset);
    const kHi = Math.floor(k / TWO32);
    let lo = k - kHi * TWO32 + this.offLo;
    let hi = kHi + this.offHi;
    if (lo >= TWO32) {
      lo -= TWO32;
      hi += 1;
    }
    return Long.fromBits(lo | 0, hi | 0, true);
  }

  /** A request target's path parts and query (made once per distinct target). */
  private readonly targetParts = (target: string): { parts: PathParts; query: string | undefined } => {
    const split = splitTarget(target);
    return { parts: this.pathParts(split.path), query: split.query };
  };

  private pathParts(path: string): PathParts {
    return this.paths.get(path, (p) => {
      const route = routeOf(p);
      return { route, path: sstr('url.path', p), httpRoute: sstr('http.route', route), byMethod: new Map() };
    });
  }

  private connParts(c: ConnInfo): ConnParts {
    let parts = this.conns.get(c);
    if (parts && parts.raddr === c.raddr && parts.laddr === c.laddr && parts.rport === c.rport && parts.lport === c.lport) return parts;
    const server = c.role === Role.SERVER;
    const tuple = [
      sstr('network.peer.address', c.raddr), sint('network.peer.port', c.rport),
      sstr('network.local.address', c.laddr), sint('network.local.port', c.lport),
    ];
    if (server) tuple.push(sstr('client.address', c.raddr), sint('client.port', c.rport));
    parts = {
      laddr: c.laddr, raddr: c.raddr, lport: c.lport, rport: c.rport, tuple,
      server: server
        ? [sstr('server.address', c.laddr), sint('server.port', c.lport)]
        : [sstr('server.address', c.raddr), sint('server.port', c.rport)],
    };
    this.conns.set(c, parts);
    return parts;
  }

  /** The shared parts a request head gives its span (through the caches). */
  private requestParts(req: RequestHead): RequestParts {
    const { parts: pp, query } = this.targets.get(req.target, this.targetParts);
    let method = pp.byMethod.get(req.method);
    if (!method) pp.byMethod.set(req.method, (method = [sstr('http.request.method', req.method), `${req.method} ${pp.route}`]));
    return {
      head: req, path: pp, query, method,
      host: req.headers.host ? this.hosts.get(req.headers.host, hostParts) : undefined,
      agent: req.headers.userAgent ? this.agents.get(req.headers.userAgent, (v) => sstr('user_agent.original', v)) : undefined,
    };
  }

  span(x: Exchange): Span {
    const req = x.request;
    const res = x.response;
    const conn = x.conn;
    const server = conn.role === Role.SERVER;
    // a TLS connection whose socket was never seen has no addresses: none rather than "::"
    const tuple = conn.noTuple ? undefined : this.connParts(conn);
    let rp = tuple?.lastRequest;
    if (rp?.head !== req) {
      rp = this.requestParts(req);
      if (tuple) tuple.lastRequest = rp;
    }
    const { path: pp, query, method: byMethod, host, agent } = rp;
    let status = res.status < 1000 ? this.statuses[res.status] : undefined;
    if (!status) {
      status = sint('http.response.status_code', res.status);
      if (res.status < 1000) this.statuses[res.status] = status;
    }
    const version = res.version === '1.1' ? VERSION_11 : res.version === '1.0' ? VERSION_10 : str('network.protocol.version', res.version);
    const withQuery = this.opts.captureQuery && query !== undefined && query !== '';
    const last = tuple?.last;
    let attrs: KeyValue[];
    if (last && !withQuery && last.method === byMethod[0] && last.path === pp && last.status === status && last.version === version && last.host === host && last.agent === agent) {
      attrs = last.list;
    } else {
      attrs = [byMethod[0], pp.path, pp.httpRoute, status, PROTOCOL_NAME, version, TRANSPORT, conn.tls ? SCHEME_HTTPS : SCHEME_HTTP];
      if (tuple) for (const kv of tuple.tuple) attrs.push(kv);
      if (withQuery) attrs.push(str('url.query', redactQuery(query)));
      // server.address/port: the Host header's, else the socket's
      if (host && host.length > 0) {
        for (const kv of host) attrs.push(kv);
        if (host.length === 1 && tuple) attrs.push(tuple.server[1] as KeyValue);
      } else if (tuple) {
        attrs.push(tuple.server[0] as KeyValue, tuple.server[1] as KeyValue);
      }
      if (agent) attrs.push(agent);
      if (tuple && !withQuery) {
        preEncodeKeyValueList(attrs);
        tuple.last = { method: byMethod[0], path: pp, status, version, host, agent, list: attrs };
      }
    }
    const error = res.status >= 500 || (!server && res.status >= 400);
    const span: Span = {
      traceId: this.ids.take(16),
      spanId: this.ids.take(8),
      name: byMethod[1],
      kind: server ? SpanKind.SERVER : SpanKind.CLIENT,
      startTimeUnixNano: this.epoch(x.startNs),
      endTimeUnixNano: this.epoch(x.endNs > x.startNs ? x.endNs : x.startNs),
      attributes: attrs,
      events: NO_EVENTS,
      links: NO_LINKS,
      status: error ? STATUS_ERROR : STATUS_UNSET,
    };
    if (server) {
      const tp = parseTraceparent(req.headers.traceparent);
      if (tp) {
        span.traceId = tp.traceId;
        span.parentSpanId = tp.parentSpanId;
        span.flags = (tp.flags & 0xff) | 0x300; // W3C flags + "parent is remote" known and set
        if (req.headers.tracestate) span.traceState = req.headers.tracestate;
      }
    }
    return span;
  }

  /** Resource attributes of a process, read once per pid from /proc. */
  resource(pid: number, comm = ''): KeyValue[] {
    let r = this.resources.get(pid);
    if (!r) {
      const p = processInfo(pid, comm);
      r = [int('process.pid', pid), str('process.executable.name', p.executableName), str('host.name', this.hostName)];
      if (p.executablePath) r.push(str('process.executable.path', p.executablePath));
      if (this.opts.commandLine) {
        const cmd = commandLine(pid);
        if (cmd !== undefined) r.push(str('process.command_line', cmd));
      }
      const cid = containerId(pid);
      if (cid) r.push(str('container.id', cid));
      if (this.resources.size > 4096) this.resources.clear(); // bounded: pids come and go
      this.resources.set(pid, r);
    }
    return r;
  }

  /** Spans by pid -> one TracesData, a ResourceSpans per process. */
  batch(byPid: Map<number, Span[]>): TracesData {
    const resourceSpans: ResourceSpans[] = [];
    for (const [pid, spans] of byPid) {
      resourceSpans.push({
        resource: { attributes: this.resource(pid) },
        scopeSpans: [{ scope: { name: 'sonde/receiver/ebpf_http', version: this.opts.scopeVersion, attributes: [] }, spans }],
      });
    }
    return { resourceSpans };
  }

  forget(pid: number): void {
    this.resources.delete(pid);
  }
}
