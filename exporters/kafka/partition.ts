// Message keys for traces. Kafka puts messages with the same key in the same partition, and a
// consumer group gives each partition to one gateway: the key decides which spans meet there.
//   by id:         the trace id (hex, as the Collector keys them): tail sampling sees whole traces.
//   by connection: the TCP connection's two endpoints, sorted, so the client side (seen on one
//                  node) and the server side (seen on another) of the same connection meet and
//                  a gateway can stitch them. Spans without both endpoints fall back to the trace
//                  id (with by id) or no key.
import { SpanKind, type AnyValue, type KeyValue, type ResourceSpans, type ScopeSpans, type Span, type TracesData } from '../../pipeline/pdata';

export interface KeyedTraces { key: string | null; data: TracesData }

function attr(attrs: readonly KeyValue[] | undefined, key: string): AnyValue | undefined {
  if (!attrs) return undefined;
  for (const kv of attrs) if (kv.key === key) return kv.value;
  return undefined;
}

function text(v: AnyValue | undefined): string | undefined {
  if (!v) return undefined;
  if (v.stringValue != null && v.stringValue !== '') return v.stringValue;
  return undefined;
}

function port(v: AnyValue | undefined): string | undefined {
  if (!v) return undefined;
  const n = v.intValue != null ? Number(v.intValue) : v.stringValue ? Number(v.stringValue) : NaN;
  return Number.isInteger(n) && n > 0 && n < 65536 ? String(n) : undefined;
}

function endpoint(attrs: readonly KeyValue[] | undefined, prefix: string): string | undefined {
  const a = text(attr(attrs, `${prefix}.address`));
  const p = port(attr(attrs, `${prefix}.port`));
  if (a === undefined || p === undefined) return undefined;
  return a.includes(':') ? `[${a.toLowerCase()}]:${p}` : `${a.toLowerCase()}:${p}`;
}

/**
 * `tcp:<a>|<b>` with the endpoints sorted, or undefined when the span does not name both. A server
 * span names its client in client.* (or network.peer.*) and itself in network.local.* (or
 * server.*); a client span names its server in network.peer.* (or server.*) and itself in
 * network.local.* (or client.*).
 */
export function connectionKey(span: Span): string | undefined {
  const a = span.attributes;
  const peer = endpoint(a, 'network.peer');
  const local = endpoint(a, 'network.local');
  let client: string | undefined;
  let server: string | undefined;
  if (span.kind === SpanKind.SERVER) {
    client = endpoint(a, 'client') ?? peer;
    server = local ?? endpoint(a, 'server');
  } else {
    server = peer ?? endpoint(a, 'server');
    client = local ?? endpoint(a, 'client');
  }
  if (client === undefined || server === undefined) return undefined;
  return client < server ? `tcp:${client}|${server}` : `tcp:${server}|${client}`;
}

/** The trace id in hex (the Collector's key), or null when the span has none. */
export function traceKey(span: Span): string | null {
  const id = span.traceId;
  return id && id.length ? Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex') : null;
}

/**
 * Splits a batch into one part per key, each keeping its spans' resource and scope (shared, not
 * copied: the parts are encoded at once and never changed). Order of first appearance is kept.
 */
export function keyTraces(data: TracesData, byId: boolean, byConnection: boolean): KeyedTraces[] {
  if (!byId && !byConnection) return [{ key: null, data }];
  const parts = new Map<string | null, { data: TracesData; rs: ResourceSpans | undefined; ss: ScopeSpans | undefined; srcRs: unknown; srcSs: unknown }>();
  for (const rs of data.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        const key = (byConnection ? connectionKey(span) : undefined) ?? (byId ? traceKey(span) : null);
        let part = parts.get(key);
        if (!part) {
          part = { data: { resourceSpans: [] }, rs: undefined, ss: undefined, srcRs: undefined, srcSs: undefined };
          parts.set(key, part);
        }
        if (part.srcRs !== rs) {
          part.rs = { ...(rs.resource ? { resource: rs.resource } : {}), ...(rs.schemaUrl ? { schemaUrl: rs.schemaUrl } : {}), scopeSpans: [] };
          part.data.resourceSpans.push(part.rs);
          part.srcRs = rs;
          part.srcSs = undefined;
        }
        if (part.srcSs !== ss) {
          part.ss = { ...(ss.scope ? { scope: ss.scope } : {}), ...(ss.schemaUrl ? { schemaUrl: ss.schemaUrl } : {}), spans: [] };
          part.rs!.scopeSpans.push(part.ss);
          part.srcSs = ss;
        }
        part.ss!.spans.push(span);
      }
    }
  }
  return [...parts].map(([key, p]) => ({ key, data: p.data }));
}
