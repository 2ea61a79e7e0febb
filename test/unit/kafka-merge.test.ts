// The kafka receiver's merge of fetched otlp_proto messages into one request: the same spans under
// the same resources and scopes, one entry per distinct resource and scope; anything outside the
// shared layout is refused (the receiver then goes message by message).
import * as assert from 'node:assert/strict';
import { toMessages } from '../../exporters/kafka/exporter';
import { codecs } from '../../pipeline/otlp/codec';
import type { TracesData } from '../../pipeline/pdata';
import { mergeRequests } from '../../receivers/kafka/merge';
import { spanRequests } from '../helpers/kafka-mock';

const flat = (d: TracesData): string[] => d.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) =>
  JSON.stringify([r.resource?.attributes ?? null, r.schemaUrl ?? '', s.scope?.name ?? null, s.schemaUrl ?? '', Buffer.from(x.spanId!).toString('hex'), x.name]))));

describe('kafka receiver merge', () => {
  it('one request per batch of messages: every span once, under its resource and scope, resources deduplicated', () => {
    const data = codecs.traces.decodeRequest(spanRequests(500, 500, 200)[0]!);
    const other: TracesData = { resourceSpans: [
      { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'other' } }] } as never, schemaUrl: 'https://s/1', scopeSpans: [{ scope: { name: 'x' } as never, schemaUrl: 'https://s/2', spans: data.resourceSpans[0]!.scopeSpans[0]!.spans.slice(0, 3) }, { spans: data.resourceSpans[0]!.scopeSpans[0]!.spans.slice(3, 5) }] },
      { scopeSpans: [{ spans: data.resourceSpans[0]!.scopeSpans[0]!.spans.slice(5, 6) }] },
    ] };
    const values = [...toMessages('traces', data, 'otlp_proto', 1_000_000, { byId: true, byConnection: false }).messages, ...toMessages('traces', other, 'otlp_proto', 1_000_000, { byId: false, byConnection: false }).messages].map((m) => m.value);
    assert.equal(values.length, 201);
    const merged = mergeRequests(values)!;
    const back = codecs.traces.decodeRequest(merged);
    const want = values.flatMap((v) => flat(codecs.traces.decodeRequest(v)));
    assert.deepEqual(flat(back).sort(), want.sort());
    // The 200 per-trace messages share one resource and scope: one entry, plus the other three.
    assert.equal(back.resourceSpans.length, 3);
    assert.equal(back.resourceSpans[0]!.scopeSpans.length, 1);
    assert.equal(back.resourceSpans[0]!.scopeSpans[0]!.spans.length, 500);
    assert.ok(merged.length < values.reduce((n, v) => n + v.length, 0));
  });

  it('refuses what is not in the layout, so that messages go one by one', () => {
    const [a] = spanRequests(10, 10, 10);
    const ok = Buffer.from(a!);
    assert.ok(mergeRequests([ok, ok]));
    assert.equal(mergeRequests([ok, Buffer.from('not a protobuf request \xff\xff')]), undefined);
    assert.equal(mergeRequests([ok, ok.subarray(0, ok.length - 3)]), undefined, 'truncated');
    assert.equal(mergeRequests([ok, Buffer.from([0x12, 0x00])]), undefined, 'another request field');
    assert.equal(mergeRequests([ok, Buffer.from([0x0a, 0x02, 0x20, 0x01])]), undefined, 'an unknown resource-entry field');
  });
});
