// Exchanges -> OTLP spans with the HTTP semantic conventions, grouped by process (resource).
import { randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';

import Long from 'long';

import type { KernelClock } from '../../native/clock';
import { processInfo } from '../../pipeline/ebpf/proc';
import { SpanKind, StatusCode, type KeyValue, type ResourceSpans, type Span, type TracesData } from '../../pipeline/pdata';
import { containerId } from './container';
import { redactQuery, routeOf, parseTraceparent, splitTarget } from './route';
import { Role } from './record';
import type { Exchange } from './tracker';

const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });

const U32 = 0xffffffffn;
/** Epoch nanoseconds -> unsigned Long from its two halves (no decimal string round trip). */
const longOf = (ns: bigint): Long => Long.fromBits(Number(ns & U32), Number((ns >> 32n) & U32), true);

/** Routes of recent paths: the same few paths come back on every request. Bounded. */
const MAX_ROUTES = 4096;
const int = (key: string, v: number): KeyValue => ({ key, value: { intValue: v } });

/** Random ids from a pool refilled in bulk (one crypto call per 4 KiB of ids). */
class IdSource {
  private pool = Buffer.alloc(4096);
  private pos = this.pool.length;

  take(n: number): Buffer {
    if (this.pos + n > this.pool.length) {
      this.pool = Buffer.alloc(4096);
      randomFillSync(this.pool);
      this.pos = 0;
    }
    const b = this.pool.subarray(this.pos, this.pos + n);
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

export class SpanBuilder {
  private readonly ids = new IdSource();
  private readonly resources = new Map<number, KeyValue[]>();
  private readonly hostName = os.hostname();
  private readonly routes = new Map<string, string>();

  constructor(
    private readonly clock: KernelClock,
    private readonly opts: SpanOptions,
  ) {}

  span(x: Exchange): Span {
    const req = x.request;
    const res = x.response;
    const server = x.conn.role === Role.SERVER;
    const { path, query } = splitTarget(req.target);
    let route = this.routes.get(path);
    if (route === undefined) {
      route = routeOf(path);
      if (this.routes.size >= MAX_ROUTES) this.routes.clear();
      this.routes.set(path, route);
    }
    const attrs: KeyValue[] = [
      str('http.request.method', req.method),
      str('url.path', path),
      str('http.route', route),
      int('http.response.status_code', res.status),
      str('network.protocol.name', 'http'),
      str('network.protocol.version', res.version),
      str('network.transport', 'tcp'),
      str('url.scheme', x.conn.tls ? 'https' : 'http'),
    ];
    // a TLS connection whose socket was never seen has no addresses: none rather than "::"
    const tuple = !x.conn.noTuple;
    if (tuple) attrs.push(str('network.peer.address', x.conn.raddr), int('network.peer.port', x.conn.rport));
    if (this.opts.captureQuery && query !== undefined && query !== '') attrs.push(str('url.query', redactQuery(query)));
    const host = req.headers.host ? hostOnly(req.headers.host) : undefined;
    const serverAddress = host?.host ?? (tuple ? (server ? x.conn.laddr : x.conn.raddr) : undefined);
    const serverPort = host?.port ?? (tuple ? (server ? x.conn.lport : x.conn.rport) : undefined);
    if (serverAddress !== undefined) attrs.push(str('server.address', serverAddress));
    if (serverPort !== undefined) attrs.push(int('server.port', serverPort));
    if (server && tuple) attrs.push(str('client.address', x.conn.raddr), int('client.port', x.conn.rport));
    if (req.headers.userAgent) attrs.push(str('user_agent.original', req.headers.userAgent));
    const error = res.status >= 500 || (!server && res.status >= 400);
    const span: Span = {
      traceId: this.ids.take(16),
      spanId: this.ids.take(8),
      name: `${req.method} ${route}`,
      kind: server ? SpanKind.SERVER : SpanKind.CLIENT,
      startTimeUnixNano: longOf(this.clock.toEpochNs(x.startNs)),
      endTimeUnixNano: longOf(this.clock.toEpochNs(x.endNs > x.startNs ? x.endNs : x.startNs)),
      attributes: attrs,
      events: [],
      links: [],
      status: error ? { code: StatusCode.ERROR } : { code: StatusCode.UNSET },
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
