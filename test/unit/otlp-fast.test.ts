// The hand-written OTLP codec (pipeline/otlp/fast-*.ts) against protobufjs over our schema, the
// independent reference: generated data of every field kind and edge value for all signals,
// the OTel JS SDK's real exporter payloads, and malformed input. Equal means the same bytes on
// encode and, on decode, the same classes, the same own fields and the same values
// (assertSameMessage).
import * as assert from 'node:assert/strict';
import Long from 'long';
import * as protobuf from 'protobufjs';
import { SpanKind, SpanStatusCode, ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AggregationTemporality, AggregationType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { codecs } from '../../pipeline/otlp/codec';
import { decodeLogsFast, decodeMetricsFast, decodeTracesFast } from '../../pipeline/otlp/fast-decode';
import { encodeLogsFast, encodeMetricsFast, encodeTracesFast, preEncodeKeyValue, preEncodeKeyValueList } from '../../pipeline/otlp/fast-encode';
import { WireError, type Msg } from '../../pipeline/otlp/fast-wire';
import { otlpType } from '../../pipeline/otlp/schema';
import { PermanentError } from '../../pipeline/errors';
import type { Signal } from '../../pipeline/pdata';
import { assertSameMessage, sdkExport, startHttpCapture, type HttpCapture } from '../helpers/sdk-capture';

type Obj = Record<string, unknown>;

const TYPES: { [S in Signal]: protobuf.Type } = {
  traces: otlpType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
  metrics: otlpType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'),
  logs: otlpType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
};
const FAST: { [S in Signal]: { decode(b: Uint8Array): Msg; encode(m: Msg): Buffer } } = {
  traces: { decode: decodeTracesFast, encode: encodeTracesFast },
  metrics: { decode: decodeMetricsFast, encode: encodeMetricsFast },
  logs: { decode: decodeLogsFast, encode: encodeLogsFast },
};
const SIGNALS: Signal[] = ['traces', 'metrics', 'logs'];

/** A pseudo-random generator with a seed, so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

// ---- generated pdata ---------------------------------------------------------------------------

class Gen {
  private readonly r: () => number;
  constructor(seed: number) {
    // Scramble the seed: nearby seeds would otherwise start with nearly the same numbers.
    this.r = rng(Math.imul(seed + 1, 0x9e3779b1));
    for (let i = 0; i < 4; i++) this.r();
  }
  int(n: number): number { return Math.floor(this.r() * n); }
  chance(p: number): boolean { return this.r() < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }

  str(): string {
    return this.pick(['', 'a', 'http.request.method', 'GET', 'ünïcode ✓', '日本語', '😀 emoji', 'x'.repeat(63), 'y'.repeat(64),
      'long ' + 'é'.repeat(100), 'tab\tnew\nline', '\u0000nul', `k${this.int(1000)}`, '\uFEFFbom']);
  }
  bytes(n?: number): Buffer {
    const len = n ?? this.int(5);
    const b = Buffer.alloc(len);
    for (let i = 0; i < len; i++) b[i] = this.int(256);
    return b;
  }
  /** 64-bit values as pdata may hold them: Long (signed/unsigned), number, decimal string. */
  int64(): Long | number | string {
    return this.pick<() => Long | number | string>([
      () => 0, () => 1, () => -1, () => 127, () => 128, () => -129, () => 2 ** 31, () => -(2 ** 31) - 1, () => Number.MAX_SAFE_INTEGER,
      () => Long.MAX_VALUE, () => Long.MIN_VALUE, () => Long.fromString('-5'), () => Long.UZERO, () => Long.fromInt(300),
      () => '123456789012345', () => '-42',
    ])();
  }
  nanos(): Long | number {
    return this.pick<() => Long | number>([
      () => Long.fromString('18446744073709551615', true), () => Long.fromString('1700000000123456789', true), () => Long.UZERO,
      () => 1_700_000_000_000, () => Long.fromBits(this.int(2 ** 31), this.int(2 ** 31), true),
    ])();
  }
  double(): number {
    return this.pick([0, -0, 1.5, -2.25, NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE, 1e-300, 42]);
  }
  u32(): number { return this.pick([0, 1, 127, 128, 16384, 2 ** 31, 2 ** 32 - 1]); }

  any(depth: number): Obj {
    switch (this.int(depth > 3 ? 6 : 9)) {
      case 0: return { stringValue: this.str() };
      case 1: return { boolValue: this.chance(0.5) };
      case 2: return { intValue: this.int64() };
      case 3: return { doubleValue: this.double() };
      case 4: return { bytesValue: this.bytes() };
      case 5: return {};
      case 6: return { arrayValue: { values: this.list(3, () => this.any(depth + 1)) } };
      case 7: return { kvlistValue: { values: this.attrs(depth + 1) } };
      default: return { stringValue: '' };
    }
  }
  list<T>(max: number, f: () => T): T[] {
    return Array.from({ length: this.int(max + 1) }, f);
  }
  attrs(depth = 0): Obj[] {
    return this.list(4, () => (this.chance(0.1) ? { key: this.str() } : { key: this.str(), value: this.any(depth) }));
  }
  /** Sets each optional scalar with probability 1/2 (absent, undefined or a value). */
  maybe(o: Obj, fields: Record<string, () => unknown>): Obj {
    for (const [k, f] of Object.entries(fields)) {
      const roll = this.int(4);
      if (roll === 0) o[k] = f();
      else if (roll === 1) o[k] = undefined;
      else if (roll === 2) o[k] = f();
    }
    return o;
  }
  resource(): Obj {
    return this.maybe({ attributes: this.attrs() }, { droppedAttributesCount: () => this.u32() });
  }
  scope(): Obj {
    return this.maybe({ attributes: this.attrs() }, { name: () => this.str(), version: () => this.str(), droppedAttributesCount: () => this.u32() });
  }
  header(o: Obj, items: string, item: () => Obj): Obj {
    o.resource = this.chance(0.8) ? this.resource() : undefined;
    o[`scope${items}`] = this.list(2, () => this.maybe({ scope: this.chance(0.8) ? this.scope() : undefined, [itemsField(items)]: this.list(3, item) }, { schemaUrl: () => this.str() }));
    return this.maybe(o, { schemaUrl: () => this.str() });
  }

  span(): Obj {
    return this.maybe({
      attributes: this.attrs(),
      events: this.list(2, () => this.maybe({ attributes: this.attrs() }, { timeUnixNano: () => this.nanos(), name: () => this.str(), droppedAttributesCount: () => this.u32() })),
      links: this.list(2, () => this.maybe({ attributes: this.attrs() }, {
        traceId: () => this.bytes(16), spanId: () => this.bytes(8), traceState: () => this.str(), droppedAttributesCount: () => this.u32(), flags: () => this.u32(),
      })),
    }, {
      traceId: () => this.bytes(16), spanId: () => this.bytes(8), traceState: () => this.str(), parentSpanId: () => this.pick([this.bytes(8), Buffer.alloc(0)]),
      flags: () => this.u32(), name: () => this.str(), kind: () => this.int(6), startTimeUnixNano: () => this.nanos(), endTimeUnixNano: () => this.nanos(),
      droppedAttributesCount: () => this.u32(), droppedEventsCount: () => this.u32(), droppedLinksCount: () => this.u32(),
      status: () => this.maybe({}, { message: () => this.str(), code: () => this.int(3) }),
    });
  }
  exemplar(): Obj {
    const e = this.maybe({ filteredAttributes: this.attrs() }, { timeUnixNano: () => this.nanos(), spanId: () => this.bytes(8), traceId: () => this.bytes(16) });
    if (this.chance(0.5)) e.asDouble = this.double(); else if (this.chance(0.8)) e.asInt = this.int64();
    return e;
  }
  pointBase(): Obj {
    return this.maybe({ attributes: this.attrs() }, { startTimeUnixNano: () => this.nanos(), timeUnixNano: () => this.nanos(), flags: () => this.u32() });
  }
  metric(): Obj {
    const m = this.maybe({}, { name: () => this.str(), description: () => this.str(), unit: () => this.str() });
    if (this.chance(0.3)) m.metadata = this.attrs();
    const numberPoint = (): Obj => {
      const p = this.pointBase();
      p.exemplars = this.list(2, () => this.exemplar());
      if (this.chance(0.5)) p.asDouble = this.double(); else if (this.chance(0.8)) p.asInt = this.int64();
      return p;
    };
    const stats = (p: Obj): Obj => this.maybe(p, { sum: () => this.double(), min: () => this.double(), max: () => this.double() });
    const buckets = (): Obj => this.maybe({ bucketCounts: this.list(4, () => this.pick<Long | number>([0, 1, Long.fromString('18446744073709551615', true), 300])) }, { offset: () => this.pick([0, -3, 5, -(2 ** 31), 2 ** 31 - 1]) });
    switch (this.int(6)) {
      case 0: m.gauge = { dataPoints: this.list(3, numberPoint) }; break;
      case 1: m.sum = this.maybe({ dataPoints: this.list(3, numberPoint) }, { aggregationTemporality: () => this.int(3), isMonotonic: () => this.chance(0.5) }); break;
      case 2: m.histogram = this.maybe({
        dataPoints: this.list(2, () => stats(this.maybe({ ...this.pointBase(), bucketCounts: this.list(4, () => this.nanos()), explicitBounds: this.list(3, () => this.double()), exemplars: this.list(1, () => this.exemplar()) }, { count: () => this.nanos() }))),
      }, { aggregationTemporality: () => this.int(3) }); break;
      case 3: m.exponentialHistogram = this.maybe({
        dataPoints: this.list(2, () => stats(this.maybe({ ...this.pointBase(), exemplars: this.list(1, () => this.exemplar()) }, {
          count: () => this.nanos(), scale: () => this.pick([0, -2, 20, -(2 ** 31)]), zeroCount: () => this.nanos(), zeroThreshold: () => this.double(),
          positive: buckets, negative: buckets,
        }))),
      }, { aggregationTemporality: () => this.int(3) }); break;
      case 4: m.summary = {
        dataPoints: this.list(2, () => this.maybe({ ...this.pointBase(), quantileValues: this.list(3, () => this.maybe({}, { quantile: () => this.double(), value: () => this.double() })) }, { count: () => this.nanos(), sum: () => this.double() })),
      }; break;
      default: break; // no data at all
    }
    return m;
  }
  log(): Obj {
    return this.maybe({ attributes: this.attrs() }, {
      timeUnixNano: () => this.nanos(), observedTimeUnixNano: () => this.nanos(), severityNumber: () => this.int(25), severityText: () => this.str(),
      body: () => this.any(0), droppedAttributesCount: () => this.u32(), flags: () => this.u32(), traceId: () => this.bytes(16), spanId: () => this.bytes(8),
      eventName: () => this.str(),
    });
  }

  request(signal: Signal): Obj {
    switch (signal) {
      case 'traces': return { resourceSpans: this.list(2, () => this.header({}, 'Spans', () => this.span())) };
      case 'metrics': return { resourceMetrics: this.list(2, () => this.header({}, 'Metrics', () => this.metric())) };
      default: return { resourceLogs: this.list(2, () => this.header({}, 'Logs', () => this.log())) };
    }
  }
}

function itemsField(items: string): string {
  return items === 'Spans' ? 'spans' : items === 'Metrics' ? 'metrics' : 'logRecords';
}

function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Encode with both, compare bytes; decode those bytes with both, compare messages; re-encode. */
function differential(signal: Signal, data: Obj, what: string): void {
  const T = TYPES[signal];
  const ref = T.encode(data).finish();
  const fast = FAST[signal].encode(data);
  assert.equal(hexOf(fast), hexOf(ref), `${what}: encode bytes differ`);
  const fromRef = T.decode(ref);
  const fromFast = FAST[signal].decode(ref);
  assertSameMessage(T, fromFast, fromRef, `${what}`);
  // Decoded objects (prototype defaults, Longs, Buffer views) re-encode to the same bytes.
  assert.equal(hexOf(FAST[signal].encode(fromFast)), hexOf(ref), `${what}: re-encode of the decoded form`);
  assert.equal(hexOf(FAST[signal].encode(fromRef as unknown as Msg)), hexOf(ref), `${what}: encode of protobufjs' decoded form`);
}

// ---- the tests ---------------------------------------------------------------------------------

describe('fast OTLP codec vs protobufjs (the reference)', () => {
  for (const signal of SIGNALS) {
    it(`${signal}: 300 generated requests (every field kind, edge values) encode to the same bytes and decode to the same messages`, () => {
      for (let seed = 1; seed <= 300; seed++) differential(signal, new Gen(seed * 7919 + signal.length).request(signal), `${signal} seed ${seed}`);
    });
  }

  it('edge values survive exactly: max uint64, min int64, NaN, -0, Infinity, empty and unicode strings, presence of zero oneof members', () => {
    const data = {
      resourceSpans: [{
        scopeSpans: [{
          spans: [{
            startTimeUnixNano: Long.fromString('18446744073709551615', true), endTimeUnixNano: 1,
            attributes: [
              { key: 'i0', value: { intValue: 0 } }, { key: 'min', value: { intValue: Long.MIN_VALUE } }, { key: 'neg', value: { intValue: -1 } },
              { key: 'nan', value: { doubleValue: NaN } }, { key: 'negzero', value: { doubleValue: -0 } }, { key: 'zero', value: { doubleValue: 0 } },
              { key: 'inf', value: { doubleValue: Infinity } }, { key: 'empty', value: { stringValue: '' } }, { key: 'f', value: { boolValue: false } },
              { key: 'uni', value: { stringValue: 'ü✓😀日本' } }, { key: 'nobytes', value: { bytesValue: new Uint8Array(0) } },
            ],
            events: [], links: [],
          }],
        }],
      }],
    };
    differential('traces', data, 'edge');
    const d = codecs.traces.decodeRequest(codecs.traces.encodeRequest(data as never));
    const attrs = Object.fromEntries(d.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes.map((kv) => [kv.key, kv.value!]));
    assert.ok(Object.prototype.hasOwnProperty.call(attrs.i0, 'intValue'));
    assert.equal(String(attrs.min!.intValue), '-9223372036854775808');
    assert.ok(Object.is(attrs.negzero!.doubleValue, -0));
    assert.ok(Object.prototype.hasOwnProperty.call(attrs.nobytes, 'bytesValue'));
    assert.equal(attrs.uni!.stringValue, 'ü✓😀日本');
  });

  it('large requests (scratch growth, length prefixes wider than guessed) and strings at the one-byte-prefix boundary: same bytes', () => {
    const strs = ['日'.repeat(42), '日'.repeat(43), '😀'.repeat(21), 'é'.repeat(42), 'a'.repeat(42) + 'é', 'x'.repeat(127), 'x'.repeat(128), 'y'.repeat(20000)];
    const spans = Array.from({ length: 12000 }, (_, i) => ({
      traceId: Buffer.alloc(16, i & 255), spanId: Buffer.alloc(8, 1), name: strs[i % strs.length], kind: 2,
      startTimeUnixNano: Long.fromNumber(1_700_000_000_000_000 + i, true),
      attributes: [{ key: 'k', value: { stringValue: strs[(i + 3) % strs.length] } }, { key: 'n', value: { intValue: i } }],
      events: [], links: [],
    }));
    // Tiny spans too: a span body under 128 bytes has a one-byte prefix, narrower than guessed.
    spans.push({ traceId: Buffer.alloc(0), spanId: Buffer.alloc(0), name: 's', kind: 0, startTimeUnixNano: Long.UZERO, attributes: [], events: [], links: [] });
    differential('traces', { resourceSpans: [{ scopeSpans: [{ spans }] }, { scopeSpans: [{ spans: spans.slice(0, 3) }] }] }, 'large');
  });

  it('pre-encoded attributes and attribute lists (shared by many spans, also used as resource and event attributes): same bytes, every time', () => {
    const kv = (key: string, v: Record<string, unknown>): { key: string; value: Record<string, unknown> } => ({ key, value: v });
    const one = preEncodeKeyValue(kv('shared.s', { stringValue: 'x'.repeat(200) }));
    const list = preEncodeKeyValueList([one, kv('n', { intValue: 7 }), kv('d', { doubleValue: 0.5 }), kv('nested', { kvlistValue: { values: [kv('a', { boolValue: true })] } })]);
    assert.ok(Object.isFrozen(list) && Object.isFrozen(list[1]));
    const span = (i: number, attributes: readonly unknown[]): Record<string, unknown> => ({
      traceId: Buffer.alloc(16, i), spanId: Buffer.alloc(8, i), name: `s${i}`, startTimeUnixNano: Long.fromNumber(i, true), attributes,
      events: [{ name: 'e', attributes: list }], links: [],
    });
    const request = (): Parameters<typeof differential>[1] => ({
      resourceSpans: [{
        resource: { attributes: list },
        scopeSpans: [{ scope: { name: 'sc', attributes: [one] }, spans: [span(1, list), span(2, [one, kv('own', { stringValue: 'y' })]), span(3, list)] }],
      }],
    });
    // the list's bytes are kept at its first encoding (under one field tag) and copied after:
    // the second and third requests take that path for the span attributes
    for (let i = 0; i < 3; i++) differential('traces', request(), `pre-encoded, request ${i}`);
    assert.throws(() => (list as unknown as unknown[]).push(one), TypeError);
  });

  it('lone UTF-16 surrogates: written as U+FFFD (valid UTF-8), where protobufjs writes bytes its own decoder rejects', () => {
    const data = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityText: 'a\uD800b', attributes: [] }] }] }] };
    const fast = FAST.logs.encode(data);
    const back = codecs.logs.decodeRequest(fast);
    assert.equal(back.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.severityText, 'a\uFFFDb');
    assert.throws(() => TYPES.logs.decode(TYPES.logs.encode(data).finish()));
  });

  it('an inherited field (Object.create copy) is written by the fast encoder; protobufjs writes own fields only', () => {
    const base = { name: 'inherited', kind: 2, attributes: [], events: [], links: [] };
    const span = Object.assign(Object.create(base) as Obj, { spanId: Buffer.alloc(8, 7) });
    const data = { resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] };
    const s = codecs.traces.decodeRequest(FAST.traces.encode(data)).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.equal(s.name, 'inherited');
    assert.equal(s.kind, 2);
    assert.equal((TYPES.traces.decode(TYPES.traces.encode(data).finish()) as unknown as { resourceSpans: { scopeSpans: { spans: Obj[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans[0]!.name, '');
  });

  it('interned strings: the same text from different requests is the same value, different text never collides', () => {
    const mk = (s: string) => codecs.logs.encodeRequest({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityText: s, attributes: [] }] }] }] } as never);
    const texts = Array.from({ length: 20000 }, (_, i) => `v${i % 7000}-${'x'.repeat(i % 40)}`);
    for (const t of texts) assert.equal(codecs.logs.decodeRequest(mk(t)).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.severityText, t);
  });

  it('wire forms protobufjs accepts: unpacked repeated scalars, merged repeated message fields, oneof switches, explicit defaults, unknown fields and groups', () => {
    const w = protobuf.Writer;
    // ExportMetricsServiceRequest with a histogram whose bucket_counts/explicit_bounds are unpacked,
    // a metric whose data switches from gauge to sum, and an unknown group and varint.
    const hp = w.create().uint32(0x31).fixed64(5).uint32(0x31).fixed64(6).uint32(0x39).double(1.5).uint32(0x32).fork().fixed64(7).ldelim().finish();
    const hist = w.create().uint32(0x0a).bytes(hp).finish();
    const gauge = w.create().uint32(0x0a).bytes(w.create().uint32(0x21).double(2).finish()).finish();
    const sum = w.create().uint32(0x0a).bytes(w.create().uint32(0x31).sfixed64(3).uint32(0x21).double(4).finish()).uint32(0x18).uint32(1).finish();
    const expBuckets = w.create().uint32(0x08).sint32(-2).uint32(0x10).uint64(9).uint32(0x12).fork().uint64(1).uint64(Long.fromString('18446744073709551615', true)).ldelim().finish();
    const exp = w.create().uint32(0x0a).bytes(w.create().uint32(0x42).bytes(expBuckets).uint32(0x42).bytes(w.create().uint32(0x10).uint64(4).finish()).finish()).finish();
    const m1 = w.create().uint32(0x0a).string('h').uint32(0x4a).bytes(hist).uint32(0x2a).bytes(gauge).uint32(0x3a).bytes(sum).finish();
    const m2 = w.create().uint32(0x52).bytes(exp).uint32(0x0a).string('').uint32(0xa3).uint32(0x08).uint32(1).uint32(0xa4).uint32(0x98).uint32(7).finish();
    const sm = w.create().uint32(0x12).bytes(m1).uint32(0x12).bytes(m2).finish();
    const rm = w.create().uint32(0x0a).bytes(w.create().uint32(0x10).uint32(3).finish()).uint32(0x12).bytes(sm)
      .uint32(0x0a).bytes(w.create().uint32(0x0a).bytes(w.create().uint32(0x0a).string('k').finish()).uint32(0x10).uint32(0).finish()).finish();
    const req = w.create().uint32(0x0a).bytes(rm).finish();
    const ref = TYPES.metrics.decode(req);
    const fast = FAST.metrics.decode(req);
    assertSameMessage(TYPES.metrics, fast, ref);
    const metrics = (fast.resourceMetrics as Obj[])[0]!.scopeMetrics as Obj[];
    const [a, b] = (metrics[0]!.metrics as Obj[]);
    assert.ok(a!.sum && !Object.prototype.hasOwnProperty.call(a, 'gauge') && !Object.prototype.hasOwnProperty.call(a, 'histogram'), 'last oneof member wins');
    assert.equal(((b!.exponentialHistogram as Obj).dataPoints as Obj[])[0]!.positive && (((b!.exponentialHistogram as Obj).dataPoints as Obj[])[0]!.positive as Obj).bucketCounts instanceof Array, true);
    assert.ok(!Object.prototype.hasOwnProperty.call(b, 'name'), 'an explicit empty string is not stored');
    // The resource sent twice merges: attributes from the second, dropped count (3, then 0) cleared.
    const res = (fast.resourceMetrics as Obj[])[0]!.resource as Obj;
    assert.equal((res.attributes as Obj[]).length, 1);
    assert.ok(!Object.prototype.hasOwnProperty.call(res, 'droppedAttributesCount'));
  });

  it('a AnyValue sent twice in one KeyValue merges; members switch with the last one', () => {
    const w = protobuf.Writer;
    const v1 = w.create().uint32(0x2a).bytes(w.create().uint32(0x0a).bytes(w.create().uint32(0x0a).string('a').finish()).finish()).finish();
    const v2 = w.create().uint32(0x2a).bytes(w.create().uint32(0x0a).bytes(w.create().uint32(0x18).uint32(1).finish()).finish()).uint32(0x18).uint32(5).finish();
    const kv = w.create().uint32(0x0a).string('k').uint32(0x12).bytes(v1).uint32(0x12).bytes(v2).finish();
    const span = w.create().uint32(0x4a).bytes(kv).uint32(0x4a).bytes(w.create().uint32(0x12).bytes(w.create().uint32(0x18).uint32(1).uint32(0x0a).string('s').finish()).finish()).finish();
    const req = w.create().uint32(0x0a).bytes(w.create().uint32(0x12).bytes(w.create().uint32(0x12).bytes(span).finish()).finish()).finish();
    assertSameMessage(TYPES.traces, FAST.traces.decode(req), TYPES.traces.decode(req));
  });

  it('the OTel JS SDK proto exporters\' payloads decode to the same messages and re-encode to the same bytes as with protobufjs', async function () {
    this.timeout(30_000);
    const cap: HttpCapture = await startHttpCapture();
    try {
      const mem = new InMemorySpanExporter();
      const prov = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'fast', n: 3, ok: true, r: 0.5, tags: ['a', 'b'] }), spanProcessors: [new SimpleSpanProcessor(mem)] });
      const t = prov.getTracer('scope', '1.0.0');
      const root = t.startSpan('GET /ünï', { kind: SpanKind.SERVER, attributes: { s: 'v', e: '', i: -7, z: 0, d: 2.5, b: false, arr: [1, 2], big: Number.MAX_SAFE_INTEGER } });
      root.addEvent('ev', { n: 1 });
      root.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
      t.startSpan('child', { kind: SpanKind.CLIENT, links: [{ context: root.spanContext(), attributes: { l: 1 } }] }).end();
      root.end();
      await sdkExport(new OTLPTraceExporter({ url: `${cap.base}/v1/traces` }), mem.getFinishedSpans());

      class Reader extends MetricReader { protected override async onShutdown(): Promise<void> {} protected override async onForceFlush(): Promise<void> {} }
      const reader = new Reader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
      const mp = new MeterProvider({ readers: [reader], views: [{ instrumentName: 'exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }] });
      const meter = mp.getMeter('m', '2.0');
      meter.createCounter('c').add(5, { k: 'v' });
      meter.createUpDownCounter('u', { valueType: ValueType.INT }).add(-3);
      meter.createHistogram('h', { unit: 'ms' }).record(12.5);
      meter.createHistogram('exp').record(0.001);
      meter.createHistogram('exp').record(1000);
      meter.createGauge('g').record(-1.5);
      const { resourceMetrics } = await reader.collect();
      await sdkExport(new OTLPMetricExporter({ url: `${cap.base}/v1/metrics` }), resourceMetrics);

      const memLogs = new InMemoryLogRecordExporter();
      const lp = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: memLogs })] });
      const lg = lp.getLogger('l');
      lg.emit({ body: 'text ✓', severityText: 'INFO', severityNumber: 9, attributes: { a: 1 } });
      lg.emit({ body: { nested: { deep: [1, 'x', true] } }, eventName: 'ev' });
      lg.emit({ body: new Uint8Array([1, 2, 3]) });
      await sdkExport(new OTLPLogExporter({ url: `${cap.base}/v1/logs` }), memLogs.getFinishedLogRecords());

      const paths: Array<[Signal, string]> = [['traces', '/v1/traces'], ['metrics', '/v1/metrics'], ['logs', '/v1/logs']];
      for (const [signal, path] of paths) {
        const bodies = cap.requests.filter((r) => r.path === path).map((r) => r.body);
        assert.ok(bodies.length > 0, `captured ${path}`);
        for (const body of bodies) {
          const T = TYPES[signal];
          const ref = T.decode(body);
          const fast = FAST[signal].decode(body);
          assertSameMessage(T, fast, ref, signal);
          assert.equal(hexOf(FAST[signal].encode(fast)), hexOf(T.encode(ref).finish()), `${signal}: re-encoded bytes`);
        }
      }
    } finally {
      await cap.close();
    }
  });
});

// ---- malformed input ---------------------------------------------------------------------------

function refOutcome(signal: Signal, b: Uint8Array): Obj | Error {
  try {
    return TYPES[signal].decode(b) as unknown as Obj;
  } catch (err) {
    return err as Error;
  }
}

function fastOutcome(signal: Signal, b: Uint8Array): Obj | Error {
  try {
    return FAST[signal].decode(b);
  } catch (err) {
    assert.ok(err instanceof WireError, `fast decode threw ${String(err)}`);
    return err;
  }
}

describe('fast OTLP codec: malformed input, against protobufjs', () => {
  it('mutated valid requests (bit flips, truncations, insertions, deletions): fast rejects exactly what protobufjs rejects', () => {
    const r = rng(99);
    let rejected = 0;
    let compared = 0;
    for (const signal of SIGNALS) {
      for (let seed = 1; seed <= 60; seed++) {
        const good = TYPES[signal].encode(new Gen(seed).request(signal)).finish();
        if (good.length === 0) continue;
        for (let k = 0; k < 40; k++) {
          const b = Buffer.from(good);
          let m: Buffer = b;
          switch (k % 4) {
            case 0: b[Math.floor(r() * b.length)] ^= 1 << Math.floor(r() * 8); break;
            case 1: m = b.subarray(0, Math.floor(r() * b.length)); break;
            case 2: { const at = Math.floor(r() * b.length); m = Buffer.concat([b.subarray(0, at), Buffer.from([Math.floor(r() * 256)]), b.subarray(at)]); break; }
            default: { const at = Math.floor(r() * b.length); m = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]); break; }
          }
          const ref = refOutcome(signal, m);
          const fast = fastOutcome(signal, m);
          compared++;
          assert.equal(fast instanceof Error, ref instanceof Error,
            `${signal} seed ${seed} mutation ${k}: protobufjs ${ref instanceof Error ? `rejects (${ref.message})` : 'accepts'}, fast ${fast instanceof Error ? `rejects (${fast.message})` : 'accepts'}; bytes ${m.toString('hex')}`);
          if (ref instanceof Error) rejected++;
          else assertSameMessage(TYPES[signal], fast, ref, `${signal} seed ${seed} mutation ${k}`);
        }
      }
    }
    assert.ok(rejected > compared / 4, `${rejected}/${compared} mutations rejected`);
  });

  it('random bytes: same verdict as protobufjs; the codec answers PermanentError only', () => {
    const r = rng(7);
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.alloc(1 + Math.floor(r() * 120));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(r() * 256);
      for (const signal of SIGNALS) {
        const ref = refOutcome(signal, b);
        const fast = fastOutcome(signal, b);
        assert.equal(fast instanceof Error, ref instanceof Error, `${signal} ${b.toString('hex')}: ${ref instanceof Error ? ref.message : 'ok'} / ${fast instanceof Error ? fast.message : 'ok'}`);
        try {
          codecs[signal].decodeRequest(b);
        } catch (err) {
          assert.ok(err instanceof PermanentError, String(err));
        }
      }
    }
  });

  it('errors name the field: truncation, invalid UTF-8, bad wire type, depth', () => {
    const data = { resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'first', attributes: [], events: [], links: [] }, { name: 'second ✓', attributes: [{ key: 'k', value: { stringValue: 'vvvv' } }], events: [], links: [] }] }] }] };
    const good = Buffer.from(codecs.traces.encodeRequest(data as never));
    assert.throws(() => codecs.traces.decodeRequest(good.subarray(0, good.length - 2)),
      (e: Error) => e instanceof PermanentError && /^malformed OTLP traces request: resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[1\]\.attributes\[0\]\.value\.stringValue: truncated/.test(e.message));
    // Replace the ✓ (e2 9c 93) with an invalid sequence.
    const bad = Buffer.from(good);
    const at = bad.indexOf(Buffer.from('e29c93', 'hex'));
    bad[at + 1] = 0x41;
    assert.throws(() => codecs.traces.decodeRequest(bad), /spans\[1\]\.name: invalid UTF-8/);
    assert.throws(() => TYPES.traces.decode(bad), 'protobufjs rejects it too');
    assert.throws(() => codecs.traces.decodeRequest(Buffer.from('0f', 'hex')), /malformed OTLP traces request: .*invalid wire type 7/);
    // An AnyValue nested 100 deep in a log body is fine; deeper is refused, by both decoders.
    const nest = (n: number): Obj => { let v: Obj = { stringValue: 'x' }; for (let i = 0; i < n; i++) v = { arrayValue: { values: [v] } }; return v; };
    const field = (tag: number, body: Uint8Array): Buffer => Buffer.from(protobuf.Writer.create().uint32(tag).bytes(body).finish());
    const logs = (n: number): Buffer => {
      let any: Buffer = field(0x0a, Buffer.from('x')); // AnyValue{string_value}
      for (let i = 0; i < n; i++) any = field(0x2a, field(0x0a, any)); // AnyValue{array_value{values: [any]}}
      return field(0x0a, field(0x12, field(0x12, field(0x2a, any)))); // request > ResourceLogs > ScopeLogs > LogRecord.body
    };
    for (const n of [40, 47, 48, 49, 60, 5000]) {
      const ref = refOutcome('logs', logs(n));
      const fast = fastOutcome('logs', logs(n));
      assert.equal(fast instanceof Error, ref instanceof Error, `depth ${n}`);
      if (fast instanceof Error) assert.match(fast.message, /max depth exceeded/);
      else assertSameMessage(TYPES.logs, fast, ref);
    }
    assert.ok(!(fastOutcome('logs', logs(48)) instanceof Error) && fastOutcome('logs', logs(49)) instanceof Error, 'the limit is where protobufjs puts it');
    assert.throws(() => codecs.logs.decodeRequest(logs(60)), /malformed OTLP logs request: resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.body\.arrayValue\.values\[0\]\..*max depth exceeded/);
    // Encoding refuses the same depth protobufjs refuses.
    assert.throws(() => codecs.logs.encodeRequest({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: nest(60), attributes: [] }] }] }] } as never), /cannot encode OTLP logs request: max depth exceeded/);
  });
});
