import assert from 'node:assert/strict';
import Long from 'long';
import type {
  KeyValue, LogsData, Metric, MetricsData, NumberDataPoint, Resource, Signal, SignalData, Span, TracesData,
} from '../../pipeline/pdata';
import { countItems, metricPointCount } from '../../pipeline/pdata';
import { codecs } from '../../pipeline/otlp/codec';
import { appendData, cloneData, splitAt, splitByItems } from '../../pipeline/pdata-ops';

// A small seeded generator, so a failing case can be replayed from its seed.
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

const attr = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
const resource = (tag: string): Resource => ({ attributes: [attr('res', tag)] });
const ns = (n: number) => Long.fromNumber(n, true);

function genTraces(r: (n: number) => number): TracesData {
  let k = 0;
  return {
    resourceSpans: Array.from({ length: r(4) }, (_, ri) => ({
      resource: resource(`r${ri}`),
      schemaUrl: `https://schema/${ri}`,
      scopeSpans: Array.from({ length: r(4) }, (_, si) => ({
        scope: { name: `s${ri}.${si}`, version: '1', attributes: [] },
        spans: Array.from({ length: r(7) }, (): Span => ({
          name: `span${k++}`, traceId: new Uint8Array(16).fill(k & 255), spanId: new Uint8Array(8).fill(7),
          startTimeUnixNano: ns(1000 + k), endTimeUnixNano: ns(2000 + k), attributes: [attr('i', String(k))],
          events: [], links: [], status: { code: 2, message: 'boom' },
        })),
      })),
    })),
  };
}

function genLogs(r: (n: number) => number): LogsData {
  let k = 0;
  return {
    resourceLogs: Array.from({ length: r(4) }, (_, ri) => ({
      resource: resource(`r${ri}`),
      scopeLogs: Array.from({ length: r(4) }, (_, si) => ({
        scope: { name: `s${ri}.${si}`, attributes: [] },
        logRecords: Array.from({ length: r(7) }, () => ({ severityText: 'INFO', body: { stringValue: `log${k++}` }, attributes: [] })),
      })),
    })),
  };
}

function genMetrics(r: (n: number) => number): MetricsData {
  let k = 0;
  const points = (): NumberDataPoint[] => Array.from({ length: r(6) }, () => ({ attributes: [], asInt: k++, exemplars: [] }));
  const metric = (i: number): Metric => {
    const base = { name: `m${i}`, unit: 'ms', description: 'd' };
    switch (r(3)) {
      case 0: return { ...base, gauge: { dataPoints: points() } };
      case 1: return { ...base, sum: { dataPoints: points(), aggregationTemporality: 2, isMonotonic: true } };
      default: return {
        ...base,
        histogram: {
          aggregationTemporality: 1,
          dataPoints: Array.from({ length: r(5) }, () => ({ attributes: [], count: k++, bucketCounts: [1, 2], explicitBounds: [5], exemplars: [] })),
        },
      };
    }
  };
  return {
    resourceMetrics: Array.from({ length: r(4) }, (_, ri) => ({
      resource: resource(`r${ri}`),
      scopeMetrics: Array.from({ length: r(4) }, (_, si) => ({
        scope: { name: `s${ri}.${si}`, attributes: [] },
        metrics: Array.from({ length: r(5) }, (_, mi) => metric(mi)),
      })),
    })),
  };
}

const GEN: { [S in Signal]: (r: (n: number) => number) => SignalData[S] } = { traces: genTraces, metrics: genMetrics, logs: genLogs };

/** Every item with the resource, scope and metric header it belongs to, in order. */
function flatten<S extends Signal>(signal: S, data: SignalData[S]): unknown[][] {
  const out: unknown[][] = [];
  if (signal === 'traces') {
    for (const rs of (data as TracesData).resourceSpans) for (const ss of rs.scopeSpans) {
      for (const sp of ss.spans) out.push([rs.resource, rs.schemaUrl, ss.scope, sp]);
    }
  } else if (signal === 'logs') {
    for (const rl of (data as LogsData).resourceLogs) for (const sl of rl.scopeLogs) {
      for (const lr of sl.logRecords) out.push([rl.resource, sl.scope, lr]);
    }
  } else {
    for (const rm of (data as MetricsData).resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) {
      const body = m.gauge ? ['gauge', 0, false] : m.sum ? ['sum', m.sum.aggregationTemporality, m.sum.isMonotonic]
        : ['histogram', m.histogram!.aggregationTemporality];
      const pts = (m.gauge ?? m.sum ?? m.histogram)!.dataPoints as unknown[];
      for (const p of pts) out.push([rm.resource, sm.scope, m.name, m.unit, m.description, body[0], body[1], body[2], p]);
    }
  }
  return out;
}

/** Items are compared by identity (splitting never copies them), headers by value. */
function assertSameItems(actual: unknown[][], expected: unknown[][]): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.strictEqual(a[a.length - 1], e[e.length - 1], `item ${i} differs`);
    assert.deepEqual(a.slice(0, -1), e.slice(0, -1), `header of item ${i} differs`);
  }
}

function resourcesOf<S extends Signal>(signal: S, data: SignalData[S]): object[] {
  const list = signal === 'traces' ? (data as TracesData).resourceSpans : signal === 'metrics' ? (data as MetricsData).resourceMetrics : (data as LogsData).resourceLogs;
  return list.map((r) => r.resource as object);
}

describe('pdata-ops', () => {
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    describe(signal, () => {
      it('splitByItems keeps every item, in order, with its resource and scope (200 generated batches)', () => {
        for (let seed = 1; seed <= 200; seed++) {
          const r = rng(seed);
          const data = GEN[signal](r);
          const before = flatten(signal, data);
          const total = countItems(signal, data);
          const max = 1 + r(9);
          const parts = splitByItems(signal, data, max);
          for (const p of parts) assert.ok(countItems(signal, p) <= max, `seed ${seed}: a part exceeds ${max}`);
          if (total > max) assert.equal(parts.length, Math.ceil(total / max), `seed ${seed}: parts are not full`);
          const after = parts.flatMap((p) => flatten(signal, p));
          assertSameItems(after, before);
          // A resource cut across parts is copied, never shared: mutating one part cannot touch another.
          const seen = new Set<object>();
          for (const p of parts) for (const res of new Set(resourcesOf(signal, p))) {
            assert.ok(!seen.has(res), `seed ${seed}: a resource object is shared by two parts`);
            seen.add(res);
          }
        }
      });

      it('appendData of the parts gives back the same items', () => {
        for (let seed = 1; seed <= 100; seed++) {
          const r = rng(seed * 7);
          const data = GEN[signal](r);
          const before = flatten(signal, data);
          const parts = splitByItems(signal, data, 1 + r(5));
          const merged = parts.reduce((acc, p) => appendData(signal, acc, p), GEN[signal](() => 0));
          assertSameItems(flatten(signal, merged), before);
          assert.equal(countItems(signal, merged), before.length);
        }
      });

      it('splitAt cuts at exactly n items', () => {
        for (let seed = 1; seed <= 100; seed++) {
          const r = rng(seed * 13);
          const data = GEN[signal](r);
          const before = flatten(signal, data);
          const n = r(before.length + 2);
          const [head, rest] = splitAt(signal, data, n);
          assert.equal(countItems(signal, head), Math.min(n, before.length));
          assertSameItems([...flatten(signal, head), ...flatten(signal, rest)], before);
        }
      });

      it('cloneData is equal and shares no object', () => {
        for (let seed = 1; seed <= 50; seed++) {
          const data = GEN[signal](rng(seed * 31));
          const copy = cloneData(signal, data);
          assert.deepEqual(copy, data);
          assertNoSharedObjects(copy, data);
        }
      });
    });
  }

  it('a batch that fits is returned untouched', () => {
    const data = genTraces(rng(5));
    const parts = splitByItems('traces', data, 1_000_000);
    assert.equal(parts.length, 1);
    assert.strictEqual(parts[0], data);
  });

  it('a metric cut across parts keeps name, unit and type in both', () => {
    const dataPoints = [1, 2, 3, 4, 5].map((v) => ({ attributes: [], asDouble: v, exemplars: [] }));
    const data: MetricsData = {
      resourceMetrics: [{
        resource: resource('a'),
        scopeMetrics: [{ scope: { name: 's', attributes: [] }, metrics: [{ name: 'm', unit: 'By', sum: { dataPoints, aggregationTemporality: 2, isMonotonic: true } }] }],
      }],
    };
    const parts = splitByItems('metrics', data, 2);
    assert.deepEqual(parts.map((p) => countItems('metrics', p)), [2, 2, 1]);
    for (const p of parts) {
      const m = p.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
      assert.equal(m.name, 'm');
      assert.equal(m.unit, 'By');
      assert.equal(m.sum?.aggregationTemporality, 2);
      assert.equal(m.sum?.isMonotonic, true);
    }
    assert.equal(metricPointCount(data.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!), 5, 'the input is not changed');
  });

  it('cloneData reads proto3 defaults kept on a prototype and copies bytes', () => {
    // What protobufjs decoding produces: defaults on the prototype, unset messages as null.
    const proto = { name: '', kind: 0, droppedAttributesCount: 0, status: null, traceState: '' };
    const span = Object.assign(Object.create(proto) as Span, {
      traceId: Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex').subarray(0, 16), attributes: [], events: [], links: [],
    });
    const data: TracesData = { resourceSpans: [{ resource: resource('x'), scopeSpans: [{ spans: [span] }] }] };
    const copy = cloneData('traces', data).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.equal(Object.getPrototypeOf(copy), Object.prototype);
    assert.equal(copy.name, '');
    assert.equal(copy.kind, 0);
    assert.ok(!('status' in copy), 'an unset message stays unset');
    assert.notStrictEqual(copy.traceId!.buffer, span.traceId!.buffer);
    assert.deepEqual([...copy.traceId!], [...span.traceId!]);
  });

  it('cloneData of decoded protobuf keeps which oneof member is set (unset ones sit on the prototype)', () => {
    const values = [
      { stringValue: '' }, { stringValue: 's' }, { boolValue: false }, { intValue: Long.fromNumber(-3) }, { doubleValue: 0 },
      { bytesValue: new Uint8Array([1, 2]) }, { arrayValue: { values: [{ intValue: 1 }, { kvlistValue: { values: [{ key: 'k', value: { boolValue: true } }] } }] } },
    ];
    const attributes = values.map((value, i) => ({ key: `a${i}`, value }));
    const exemplars = [{ filteredAttributes: [], asInt: 0 }, { filteredAttributes: [], asDouble: 0 }];
    const samples: { [S in Signal]: SignalData[S] } = {
      traces: { resourceSpans: [{ resource: { attributes }, scopeSpans: [{ spans: [{ name: 'x', attributes, events: [], links: [], status: { code: 1 } }] }] }] },
      logs: { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { kvlistValue: { values: [] } }, attributes }, { body: { intValue: 0 }, attributes: [] }] }] }] },
      metrics: {
        resourceMetrics: [{ scopeMetrics: [{ metrics: [
          { name: 'g', gauge: { dataPoints: [{ attributes, asInt: 0, exemplars }, { attributes: [], asDouble: 0, exemplars: [] }] } },
          { name: 'h', histogram: { dataPoints: [{ attributes: [], sum: 0, bucketCounts: [], explicitBounds: [], exemplars: [] }, { attributes: [], min: 1, bucketCounts: [], explicitBounds: [], exemplars: [] }] } },
        ] }] }],
      },
    };
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const codec = codecs[signal] as unknown as { encodeRequest(d: SignalData[Signal]): Uint8Array; decodeRequest(b: Uint8Array): SignalData[Signal]; encodeRequestJson(d: SignalData[Signal]): string };
      const expected = codec.encodeRequestJson(samples[signal]);
      const decoded = codec.decodeRequest(codec.encodeRequest(samples[signal]));
      assert.equal(codec.encodeRequestJson(cloneData(signal, decoded)), expected, signal);
      const parts = splitByItems(signal, decoded, 1);
      assert.equal(parts.length, countItems(signal, decoded));
    }
  });

  it('rejects a split size below 1', () => {
    assert.throws(() => splitByItems('logs', genLogs(rng(1)), 0), RangeError);
  });
});

function assertNoSharedObjects(a: unknown, b: unknown): void {
  const inA = new Set<object>();
  const walk = (v: unknown, f: (o: object) => void): void => {
    if (v === null || typeof v !== 'object' || Long.isLong(v)) return;
    f(v);
    for (const x of Object.values(v)) walk(x, f);
  };
  walk(a, (o) => inA.add(o));
  walk(b, (o) => assert.ok(!inA.has(o), 'an object is shared between the copy and the original'));
}
