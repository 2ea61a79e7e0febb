// What the kafka exporter writes: message keys (trace id, TCP connection) and batches split to
// fit producer.max_message_bytes, with only a span that alone exceeds it left out.
import * as assert from 'node:assert/strict';
import { toMessages } from '../../exporters/kafka/exporter';
import { connectionKey, keyTraces } from '../../exporters/kafka/partition';
import { keyedTraceMessages } from '../../exporters/kafka/trace-messages';
import type { OutgoingMessage } from '../../pipeline/kafka/client';
import { unmarshal } from '../../pipeline/kafka/encoding';
import { codecs } from '../../pipeline/otlp/codec';
import { splitAt } from '../../pipeline/pdata-ops';
import { countItems, SpanKind, type KeyValue, type ResourceSpans, type Span, type TracesData } from '../../pipeline/pdata';
import { spanRequests } from '../helpers/kafka-mock';

const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): KeyValue => ({ key, value: { intValue: v } });

function span(trace: number, id: number, attributes: KeyValue[] = [], kind = SpanKind.INTERNAL, pad = 0): Span {
  const traceId = Buffer.alloc(16); traceId.writeUInt32BE(trace, 12);
  const spanId = Buffer.alloc(8); spanId.writeUInt32BE(id, 4);
  return { traceId, spanId, name: `s${id}${'x'.repeat(pad)}`, kind, attributes, events: [], links: [] } as unknown as Span;
}

function batch(...groups: Span[][]): TracesData {
  return { resourceSpans: groups.map((spans, i) => ({ resource: { attributes: [str('service.name', `svc${i}`)] }, scopeSpans: [{ scope: { name: 'lib', attributes: [] }, spans }] })) };
}

const ids = (d: TracesData): number[] => d.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => Buffer.from(x.spanId!).readUInt32BE(4))));

describe('kafka exporter messages', () => {
  it('keys by trace id in hex, one part per trace, keeping resource and scope', () => {
    const parts = keyTraces(batch([span(1, 1), span(2, 2), span(1, 3)], [span(2, 4)]), true, false);
    assert.deepEqual(parts.map((p) => p.key), ['00000000000000000000000000000001', '00000000000000000000000000000002']);
    assert.deepEqual(parts.map((p) => ids(p.data)), [[1, 3], [2, 4]]);
    const two = parts[1]!.data;
    assert.deepEqual(two.resourceSpans.map((r) => r.resource!.attributes[0]!.value!.stringValue), ['svc0', 'svc1']);
    assert.equal(two.resourceSpans[0]!.scopeSpans[0]!.scope!.name, 'lib');
  });

  it('keys both sides of one TCP connection alike (sorted endpoints), from client and server spans', () => {
    const server = span(1, 1, [str('client.address', '10.0.0.7'), int('client.port', 40123), str('network.local.address', '10.0.0.9'), int('network.local.port', 8080), str('server.address', 'shop.local')], SpanKind.SERVER);
    const client = span(2, 2, [str('network.peer.address', '10.0.0.9'), int('network.peer.port', 8080), str('network.local.address', '10.0.0.7'), int('network.local.port', 40123)], SpanKind.CLIENT);
    assert.equal(connectionKey(server), 'tcp:10.0.0.7:40123|10.0.0.9:8080');
    assert.equal(connectionKey(client), connectionKey(server));
    // server.* stands in for the local side, client.* for a client span's own side
    const fallback = span(3, 3, [str('client.address', '10.0.0.7'), int('client.port', 40123), str('server.address', '10.0.0.9'), int('server.port', 8080)], SpanKind.SERVER);
    assert.equal(connectionKey(fallback), connectionKey(server));
    assert.equal(connectionKey(span(4, 4, [str('network.peer.address', '::1'), int('network.peer.port', 80), str('network.local.address', '::1'), int('network.local.port', 5000)])), 'tcp:[::1]:5000|[::1]:80');
    assert.equal(connectionKey(span(5, 5, [str('network.peer.address', '10.0.0.9'), int('network.peer.port', 8080)], SpanKind.CLIENT)), undefined, 'one endpoint is not a connection');
  });

  it('with both keys, connection spans go by connection and the others by trace id', () => {
    const conn = [str('network.peer.address', '10.0.0.9'), int('network.peer.port', 8080), str('network.local.address', '10.0.0.7'), int('network.local.port', 40123)];
    const parts = keyTraces(batch([span(1, 1, conn, SpanKind.CLIENT), span(1, 2), span(2, 3, conn, SpanKind.CLIENT)]), true, true);
    assert.deepEqual(parts.map((p) => [p.key, ids(p.data)]), [['tcp:10.0.0.7:40123|10.0.0.9:8080', [1, 3]], ['00000000000000000000000000000001', [2]]]);
    assert.deepEqual(keyTraces(batch([span(1, 2)]), false, true).map((p) => p.key), [null]);
  });

  it('splits a batch over max_message_bytes into parts that fit, in order, and never drops a span that fits', () => {
    const spans = Array.from({ length: 100 }, (_, i) => span(i % 3, i, [], SpanKind.INTERNAL, 200));
    const { messages, oversize } = toMessages('traces', batch(spans), 'otlp_proto', 3000, { byId: false, byConnection: false });
    assert.equal(oversize, 0);
    assert.ok(messages.length >= 8, `${messages.length} messages`);
    assert.ok(messages.every((m) => m.value.length <= 3000 && m.key === null));
    assert.deepEqual(messages.flatMap((m) => ids(unmarshal('traces', 'otlp_proto', m.value))), spans.map((_, i) => i));
  });

  it('leaves out and counts only a span that alone exceeds the limit; split parts keep their key', () => {
    const spans = [span(7, 1), span(7, 2, [], SpanKind.INTERNAL, 5000), span(7, 3)];
    const { messages, oversize } = toMessages('traces', batch(spans), 'otlp_json', 1000, { byId: true, byConnection: false });
    assert.equal(oversize, 1);
    assert.deepEqual(messages.flatMap((m) => ids(unmarshal('traces', 'otlp_json', m.value))), [1, 3]);
    assert.ok(messages.every((m) => m.key?.toString() === '00000000000000000000000000000007'));
  });

  it('splits metrics and logs too', () => {
    const logs = { resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: { name: 'l' }, logRecords: Array.from({ length: 50 }, (_, i) => ({ body: { stringValue: `line ${i} ${'y'.repeat(100)}` }, attributes: [] })) }] }] };
    const { messages, oversize } = toMessages('logs', logs as never, 'otlp_proto', 1024, { byId: true, byConnection: true });
    assert.equal(oversize, 0);
    assert.ok(messages.length > 1 && messages.every((m) => m.value.length <= 1024));
    const back = messages.flatMap((m) => unmarshal('logs', 'otlp_proto', m.value).resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords.map((l) => l.body!.stringValue))));
    assert.equal(back.length, 50);
    assert.equal(back[49], `line 49 ${'y'.repeat(100)}`);
  });

  describe('keyed traces assembled from pieces', () => {
    /** The straightforward way: a TracesData per key, encoded whole, halved with splitAt until it fits. */
    function reference(data: TracesData, maxBytes: number, byId: boolean, byConnection: boolean): { messages: OutgoingMessage[]; oversize: number } {
      const out = { messages: [] as OutgoingMessage[], oversize: 0 };
      for (const part of keyTraces(data, byId, byConnection)) {
        const key = part.key === null ? null : Buffer.from(part.key, 'utf8');
        const fit = (d: TracesData, items: number): void => {
          const value = Buffer.from(codecs.traces.encodeRequest(d));
          if (value.length + (key?.length ?? 0) <= maxBytes) { out.messages.push({ key, value }); return; }
          if (items === 1) { out.oversize++; return; }
          const half = Math.floor(items / 2);
          const [head, tail] = splitAt('traces', d, half);
          fit(head, half);
          fit(tail, items - half);
        };
        fit(part.data, countItems('traces', part.data));
      }
      return out;
    }

    function same(data: TracesData, maxBytes: number, byId: boolean, byConnection: boolean): number {
      const want = reference(data, maxBytes, byId, byConnection);
      const got = keyedTraceMessages(data, maxBytes, byId, byConnection);
      assert.equal(got.oversize, want.oversize, 'oversize');
      assert.equal(got.messages.length, want.messages.length, 'message count');
      for (let i = 0; i < want.messages.length; i++) {
        assert.deepEqual(got.messages[i]!.key, want.messages[i]!.key, `key of message ${i}`);
        assert.ok(got.messages[i]!.value.equals(want.messages[i]!.value), `bytes of message ${i}`);
      }
      return want.messages.length;
    }

    // A small deterministic generator: the same cases on every run.
    let seed = 12345;
    const rand = (n: number): number => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) % n);
    };

    function randomBatch(): TracesData {
      const conn = [str('network.peer.address', '10.0.0.9'), int('network.peer.port', 8080), str('network.local.address', '10.0.0.7'), int('network.local.port', 40000 + rand(3))];
      const resourceSpans: ResourceSpans[] = [];
      let id = 0;
      for (let r = 0, nr = 1 + rand(3); r < nr; r++) {
        const rs: ResourceSpans = { scopeSpans: [] };
        if (rand(4) > 0) rs.resource = { attributes: [str('service.name', `svc${r}`), str('host.name', 'h'.repeat(rand(200)))] } as ResourceSpans['resource'];
        if (rand(3) === 0) rs.schemaUrl = 'https://opentelemetry.io/schemas/1.26.0';
        for (let c = 0, nc = rand(4); c < nc; c++) {
          const spans: Span[] = [];
          for (let k = 0, nk = rand(12); k < nk; k++) {
            const sp = span(rand(5), ++id, rand(3) === 0 ? conn : [str('k', 'v'.repeat(rand(300)))], rand(2) ? SpanKind.CLIENT : SpanKind.SERVER, rand(2) ? rand(2000) : 0);
            if (rand(10) === 0) delete (sp as { traceId?: unknown }).traceId;
            spans.push(sp);
          }
          const ss: ResourceSpans['scopeSpans'][number] = { spans };
          if (rand(4) > 0) ss.scope = { name: `lib${c}`, version: '1.0', attributes: [] } as never;
          if (rand(3) === 0) ss.schemaUrl = 'https://example.com/scope-schema';
          rs.scopeSpans.push(ss);
        }
        resourceSpans.push(rs);
      }
      return { resourceSpans };
    }

    it('writes the same keys and bytes as encoding one TracesData per key, for every keying and limit', () => {
      let messages = 0;
      for (let round = 0; round < 200; round++) {
        const data = randomBatch();
        for (const [byId, byConnection] of [[true, false], [false, true], [true, true]] as const) {
          for (const limit of [1_000_000, 4000, 1500]) messages += same(data, limit, byId, byConnection);
        }
      }
      assert.ok(messages > 1000, `${messages} messages compared`);
    });

    it('on decoded OTLP requests (the bench payload), one message per trace, byte-identical', () => {
      const data = codecs.traces.decodeRequest(spanRequests(1000, 1000, 400)[0]!);
      assert.equal(same(data, 1_000_000, true, false), 400);
      same(data, 1024, true, true);
    });

    it('an empty batch gives no message', () => {
      assert.deepEqual(keyedTraceMessages({ resourceSpans: [] }, 1000, true, false), { messages: [], oversize: 0 });
      assert.deepEqual(keyedTraceMessages({ resourceSpans: [{ scopeSpans: [{ spans: [] }] }] }, 1000, true, false), { messages: [], oversize: 0 });
    });
  });
});
