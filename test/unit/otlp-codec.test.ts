// The OTLP codec on its own: field numbers the SDK never sends, hand-built pdata, OTLP/JSON rules,
// malformed input, responses, google.rpc.Status, the gRPC definitions, and (printed, not
// asserted) encode/decode rates. The SDK-based proof is in otlp-sdk.test.ts.
import * as assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import Long from 'long';
import { codecs, decodeStatus, decodeStatusJson, encodeStatus, encodeStatusJson } from '../../pipeline/otlp/codec';
import { otlpGrpcRawServices, otlpGrpcServiceNames, otlpGrpcServices } from '../../pipeline/otlp/grpc';
import { OTLP_PROTO, otlpType } from '../../pipeline/otlp/schema';
import { PermanentError } from '../../pipeline/errors';
import type { LogsData, MetricsData, Span, TracesData } from '../../pipeline/pdata';
import { assertSameMessage } from '../helpers/sdk-capture';

const TRACE_REQ = otlpType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const METRICS_REQ = otlpType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
const LOGS_REQ = otlpType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');

const tid = Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex');
const sid = Buffer.from('b7ad6b7169203331', 'hex');
const ns = (s: string): Long => Long.fromString(s, true);

function throwsPermanent(fn: () => unknown, match?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof PermanentError, `expected PermanentError, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  if (match) assert.match(caught.message, match);
}

/** A pseudo-random generator with a seed, so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

// ---- hand-built data ---------------------------------------------------------------------------

function handTraces(): TracesData {
  const span: Span = {
    traceId: tid, spanId: sid, parentSpanId: undefined, traceState: 'a=1', flags: 0x301, name: 'op', kind: 2,
    startTimeUnixNano: ns('18446744073709551615'), // max uint64 survives
    endTimeUnixNano: ns('1700000000000000001'),
    attributes: [
      { key: 'zero', value: { intValue: 0 } }, // presence of a default-valued oneof member
      { key: 'neg', value: { intValue: Long.fromString('-9223372036854775808') } },
      { key: 'num', value: { intValue: 12 } }, // plain number where Long is expected
      { key: 'nan', value: { doubleValue: NaN } },
      { key: 'inf', value: { doubleValue: -Infinity } },
      { key: 'empty', value: { stringValue: '' } },
      { key: 'f', value: { boolValue: false } },
      { key: 'bin', value: { bytesValue: new Uint8Array([0, 255, 10]) } },
      { key: 'none', value: {} },
      { key: 'novalue' },
      { key: 'kv', value: { kvlistValue: { values: [{ key: 'a', value: { arrayValue: { values: [{ stringValue: 'x' }, { doubleValue: 0 }] } } }] } } },
    ],
    events: [{ timeUnixNano: ns('5'), name: 'e', attributes: [] }],
    links: [{ traceId: tid, spanId: sid, attributes: [], flags: 1 }],
    status: { code: 2 },
  };
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'hand' } }], droppedAttributesCount: 3 },
      scopeSpans: [{ scope: { name: 's', version: undefined, attributes: [] }, spans: [span], schemaUrl: 'u' }],
      schemaUrl: undefined,
    }],
  };
}

function handMetrics(): MetricsData {
  const attrs = [{ key: 'k', value: { stringValue: 'v' } }];
  return {
    resourceMetrics: [{
      resource: { attributes: [] },
      scopeMetrics: [{
        scope: { name: 'm', attributes: [] },
        metrics: [
          {
            name: 'sum', unit: '1', metadata: [{ key: 'prometheus.type', value: { stringValue: 'counter' } }],
            sum: {
              aggregationTemporality: 1, isMonotonic: true,
              dataPoints: [{
                attributes: attrs, timeUnixNano: ns('10'), asInt: Long.fromNumber(-5), flags: 1,
                exemplars: [{ filteredAttributes: attrs, timeUnixNano: ns('9'), asDouble: 0.5, traceId: tid, spanId: sid }, { filteredAttributes: [], asInt: 7 }],
              }],
            },
          },
          {
            name: 'summary', summary: {
              dataPoints: [{
                attributes: [], startTimeUnixNano: ns('1'), timeUnixNano: ns('2'), count: Long.fromNumber(4, true), sum: 10.5, flags: 0,
                quantileValues: [{ quantile: 0, value: 1 }, { quantile: 0.99, value: 9.75 }, { quantile: 1, value: 10 }],
              }],
            },
          },
          {
            name: 'exp', exponentialHistogram: {
              aggregationTemporality: 2,
              dataPoints: [{
                attributes: [], count: Long.fromNumber(9, true), sum: -3.5, scale: -2, zeroCount: Long.fromNumber(1, true), zeroThreshold: 1e-9,
                positive: { offset: -3, bucketCounts: [Long.fromNumber(1, true), Long.fromNumber(0, true), Long.fromNumber(2, true)] },
                negative: { offset: 4, bucketCounts: [Long.fromNumber(5, true)] },
                min: -20, max: 0, flags: 1, exemplars: [],
              }],
            },
          },
          {
            name: 'hist', histogram: {
              aggregationTemporality: 1,
              dataPoints: [{ attributes: [], count: Long.fromNumber(0, true), bucketCounts: [], explicitBounds: [], exemplars: [], sum: 0, min: undefined }],
            },
          },
          { name: 'gauge', gauge: { dataPoints: [{ attributes: [], asDouble: 0, exemplars: [] }] } },
        ],
      }],
    }],
  };
}

function handLogs(): LogsData {
  return {
    resourceLogs: [{
      resource: { attributes: [] },
      scopeLogs: [{
        scope: { name: 'l', attributes: [{ key: 'a', value: { boolValue: true } }], droppedAttributesCount: 1 },
        logRecords: [{
          timeUnixNano: ns('1'), observedTimeUnixNano: ns('2'), severityNumber: 17, severityText: 'ERROR',
          body: { kvlistValue: { values: [{ key: 'b', value: { bytesValue: Buffer.from('hi') } }] } },
          attributes: [], droppedAttributesCount: 2, flags: 1, traceId: tid, spanId: sid, eventName: 'ev',
        }],
      }],
    }],
  };
}

// First in the file: later tests decode thousands of garbage messages, which leaves protobufjs'
// generated decoders with polluted type feedback (rates drop ~2x in the same process).
describe('OTLP codec rates (printed, not asserted)', function () {
  this.timeout(60_000);
  it('1000-span requests, 8 attributes and 1 event each', () => {
    const spans: Span[] = [];
    for (let i = 0; i < 1000; i++) {
      const id = Buffer.alloc(8);
      id.writeUInt32BE(i + 1, 4);
      spans.push({
        traceId: tid, spanId: id, parentSpanId: sid, name: `GET /api/items/${i % 50}`, kind: 2,
        startTimeUnixNano: ns('1700000000000000000').add(i * 1000), endTimeUnixNano: ns('1700000000000500000').add(i * 1000),
        attributes: [
          { key: 'http.request.method', value: { stringValue: 'GET' } },
          { key: 'http.response.status_code', value: { intValue: 200 } },
          { key: 'url.path', value: { stringValue: `/api/items/${i}` } },
          { key: 'server.address', value: { stringValue: 'shop.internal' } },
          { key: 'server.port', value: { intValue: 8080 } },
          { key: 'network.peer.address', value: { stringValue: '10.0.0.17' } },
          { key: 'k8s.pod.name', value: { stringValue: 'shop-7d4b9c-x2x9q' } },
          { key: 'sampled', value: { boolValue: true } },
        ],
        events: [{ timeUnixNano: ns('1700000000000100000'), name: 'message', attributes: [{ key: 'size', value: { intValue: 512 } }] }],
        links: [], status: { code: 1 },
      });
    }
    const req: TracesData = { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] }, scopeSpans: [{ scope: { name: 'ebpf', attributes: [] }, spans }] }] };
    const bytes = codecs.traces.encodeRequest(req);
    const decoded = codecs.traces.decodeRequest(bytes);
    const json = codecs.traces.encodeRequestJson(decoded);
    const rate = (fn: () => unknown): number => {
      for (let i = 0; i < 20; i++) fn(); // warm up
      const t0 = process.hrtime.bigint();
      let n = 0;
      while (process.hrtime.bigint() - t0 < 1_000_000_000n) {
        fn();
        n++;
      }
      return Math.round((n * 1000) / (Number(process.hrtime.bigint() - t0) / 1e9));
    };
    const r = {
      protoEncodeDecoded: rate(() => codecs.traces.encodeRequest(decoded)),
      protoEncodePlain: rate(() => codecs.traces.encodeRequest(req)),
      protoDecode: rate(() => codecs.traces.decodeRequest(bytes)),
      jsonEncode: rate(() => codecs.traces.encodeRequestJson(decoded)),
      jsonDecode: rate(() => codecs.traces.decodeRequestJson(json)),
    };
    console.log(`      request: ${bytes.length} bytes protobuf, ${json.length} bytes JSON`);
    for (const [k, v] of Object.entries(r)) console.log(`      ${k.padEnd(20)} ${v.toLocaleString('en-US')} spans/s`);
  });
});

describe('OTLP schema', () => {
  it('OTLP_PROTO is the proto3 text that is loaded, with every package', () => {
    for (const pkg of ['common.v1', 'resource.v1', 'trace.v1', 'metrics.v1', 'logs.v1', 'collector.trace.v1', 'collector.metrics.v1', 'collector.logs.v1']) {
      assert.ok(OTLP_PROTO.includes(`package opentelemetry.proto.${pkg};`), pkg);
    }
    assert.ok(OTLP_PROTO.includes('package google.rpc;') && OTLP_PROTO.includes('package google.protobuf;'), 'google packages');
  });

  // Field numbers and wire types the SDK exporters never exercise, checked against the numbers
  // published in opentelemetry-proto (tag byte(s) = field << 3 | wire type).
  const tags: Array<[string, string, unknown, string]> = [
    ['opentelemetry.proto.resource.v1.Resource', 'entityRefs', [{ type: 'k8s.pod' }], '1a'],
    ['opentelemetry.proto.common.v1.EntityRef', 'schemaUrl', 'u', '0a'],
    ['opentelemetry.proto.common.v1.EntityRef', 'type', 't', '12'],
    ['opentelemetry.proto.common.v1.EntityRef', 'idKeys', ['a'], '1a'],
    ['opentelemetry.proto.common.v1.EntityRef', 'descriptionKeys', ['a'], '22'],
    ['opentelemetry.proto.common.v1.InstrumentationScope', 'droppedAttributesCount', 1, '20'],
    ['opentelemetry.proto.common.v1.AnyValue', 'bytesValue', Buffer.from('x'), '3a'],
    ['opentelemetry.proto.trace.v1.Span', 'flags', 1, '8501'],
    ['opentelemetry.proto.trace.v1.Span.Link', 'flags', 1, '35'],
    ['opentelemetry.proto.trace.v1.Status', 'message', 'm', '12'],
    ['opentelemetry.proto.trace.v1.Status', 'code', 2, '18'],
    ['opentelemetry.proto.metrics.v1.Metric', 'summary', {}, '5a'],
    ['opentelemetry.proto.metrics.v1.Metric', 'metadata', [{ key: 'k' }], '62'],
    ['opentelemetry.proto.metrics.v1.NumberDataPoint', 'asInt', 1, '31'],
    ['opentelemetry.proto.metrics.v1.NumberDataPoint', 'exemplars', [{}], '2a'],
    ['opentelemetry.proto.metrics.v1.NumberDataPoint', 'flags', 1, '40'],
    ['opentelemetry.proto.metrics.v1.HistogramDataPoint', 'exemplars', [{}], '42'],
    ['opentelemetry.proto.metrics.v1.HistogramDataPoint', 'flags', 1, '50'],
    ['opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint', 'flags', 1, '50'],
    ['opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint', 'exemplars', [{}], '5a'],
    ['opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint', 'zeroThreshold', 1, '71'],
    ['opentelemetry.proto.metrics.v1.SummaryDataPoint', 'attributes', [{ key: 'k' }], '3a'],
    ['opentelemetry.proto.metrics.v1.SummaryDataPoint', 'startTimeUnixNano', 1, '11'],
    ['opentelemetry.proto.metrics.v1.SummaryDataPoint', 'timeUnixNano', 1, '19'],
    ['opentelemetry.proto.metrics.v1.SummaryDataPoint', 'count', 1, '21'],
    ['opentelemetry.proto.metrics.v1.SummaryDataPoint', 'sum', 1, '29'],
    ['opentelemetry.proto.metrics.v1.SummaryDataPoint', 'quantileValues', [{}], '32'],
    ['opentelemetry.proto.metrics.v1.SummaryDataPoint', 'flags', 1, '40'],
    ['opentelemetry.proto.metrics.v1.SummaryDataPoint.ValueAtQuantile', 'quantile', 1, '09'],
    ['opentelemetry.proto.metrics.v1.SummaryDataPoint.ValueAtQuantile', 'value', 1, '11'],
    ['opentelemetry.proto.metrics.v1.Exemplar', 'filteredAttributes', [{ key: 'k' }], '3a'],
    ['opentelemetry.proto.metrics.v1.Exemplar', 'timeUnixNano', 1, '11'],
    ['opentelemetry.proto.metrics.v1.Exemplar', 'asDouble', 1, '19'],
    ['opentelemetry.proto.metrics.v1.Exemplar', 'spanId', sid, '22'],
    ['opentelemetry.proto.metrics.v1.Exemplar', 'traceId', tid, '2a'],
    ['opentelemetry.proto.metrics.v1.Exemplar', 'asInt', 1, '31'],
    ['opentelemetry.proto.logs.v1.LogRecord', 'flags', 1, '45'],
    ['opentelemetry.proto.logs.v1.LogRecord', 'observedTimeUnixNano', 1, '59'],
    ['opentelemetry.proto.logs.v1.LogRecord', 'eventName', 'e', '62'],
    ['opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse', 'partialSuccess', {}, '0a'],
    ['opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess', 'rejectedSpans', 1, '08'],
    ['opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess', 'errorMessage', 'm', '12'],
    ['opentelemetry.proto.collector.metrics.v1.ExportMetricsPartialSuccess', 'rejectedDataPoints', 1, '08'],
    ['opentelemetry.proto.collector.logs.v1.ExportLogsPartialSuccess', 'rejectedLogRecords', 1, '08'],
    ['google.rpc.Status', 'code', 1, '08'],
    ['google.rpc.Status', 'message', 'm', '12'],
    ['google.rpc.Status', 'details', [{}], '1a'],
    ['google.protobuf.Any', 'typeUrl', 'u', '0a'],
    ['google.protobuf.Any', 'value', Buffer.from('v'), '12'],
    ['google.protobuf.Duration', 'seconds', 1, '08'],
    ['google.protobuf.Duration', 'nanos', 1, '10'],
    ['google.rpc.RetryInfo', 'retryDelay', {}, '0a'],
  ];
  it('field numbers and wire types of the fields the SDK never sends', () => {
    for (const [type, field, value, tag] of tags) {
      const bytes = Buffer.from(otlpType(type).encode({ [field]: value }).finish());
      assert.equal(bytes.subarray(0, tag.length / 2).toString('hex'), tag, `${type}.${field}`);
    }
  });

  it('a oneof sent twice keeps the last member only (proto3 rule), whatever the order', () => {
    const AV = otlpType('opentelemetry.proto.common.v1.AnyValue');
    const a = AV.decode(Buffer.from('0a0178' + '1805', 'hex')) as unknown as Record<string, unknown>; // string "x", then int 5
    assert.deepEqual(Object.keys(a), ['intValue']);
    const b = AV.decode(Buffer.from('1805' + '0a0178', 'hex')) as unknown as Record<string, unknown>; // int 5, then string "x"
    assert.deepEqual(Object.keys(b), ['stringValue']);
    const NDP = otlpType('opentelemetry.proto.metrics.v1.NumberDataPoint');
    const c = NDP.decode(NDP.encode({ asInt: 3 }).finish()) as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(c).filter((k) => k.startsWith('as')), ['asInt']);
  });

  it('sint32 zigzag for exponential histogram scale and bucket offset', () => {
    const dp = otlpType('opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint');
    assert.equal(Buffer.from(dp.encode({ scale: -1 }).finish()).toString('hex'), '3001'); // field 6 varint, zigzag(-1) = 1
    const b = otlpType('opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.Buckets');
    assert.equal(Buffer.from(b.encode({ offset: -3 }).finish()).toString('hex'), '0805');
  });
});

describe('OTLP codec: hand-built pdata', () => {
  const cases: Array<[string, () => object, typeof TRACE_REQ]> = [
    ['traces', handTraces, TRACE_REQ], ['metrics', handMetrics, METRICS_REQ], ['logs', handLogs, LOGS_REQ],
  ];
  for (const [signal, make, type] of cases) {
    const codec = codecs[signal as 'traces'] as unknown as { encodeRequest(d: object): Uint8Array; decodeRequest(b: Uint8Array): object; encodeRequestJson(d: object): string; decodeRequestJson(t: string): object };
    it(`${signal}: plain objects (undefined fields, numbers for 64-bit) encode; protobuf and JSON decode agree`, () => {
      const bytes = codec.encodeRequest(make());
      const fromProto = codec.decodeRequest(bytes);
      const json = codec.encodeRequestJson(make());
      const fromJson = codec.decodeRequestJson(json);
      assertSameMessage(type, fromJson, fromProto);
      // Encoding the decoded form gives the same bytes and the same JSON as the plain form.
      assert.equal(Buffer.from(codec.encodeRequest(fromProto)).toString('hex'), Buffer.from(bytes).toString('hex'));
      assert.equal(codec.encodeRequestJson(fromProto), json);
      assert.equal(codec.encodeRequestJson(fromJson), json);
    });
  }

  it('traces: values survive exactly (max uint64, min int64, NaN, -Infinity, presence of zero, bytes, nesting)', () => {
    const d = codecs.traces.decodeRequest(codecs.traces.encodeRequest(handTraces()));
    const s = d.resourceSpans[0].scopeSpans[0].spans[0];
    assert.equal(s.startTimeUnixNano?.toString(), '18446744073709551615');
    const a = Object.fromEntries(s.attributes.map((kv) => [kv.key, kv.value]));
    assert.equal(String(a.neg?.intValue), '-9223372036854775808');
    assert.ok(Object.prototype.hasOwnProperty.call(a.zero, 'intValue') && String(a.zero?.intValue) === '0', 'intValue 0 is present');
    assert.ok(Number.isNaN(a.nan?.doubleValue), 'NaN');
    assert.equal(a.inf?.doubleValue, -Infinity);
    assert.ok(Object.prototype.hasOwnProperty.call(a.empty, 'stringValue'), 'empty string is present');
    assert.equal(Buffer.from(a.bin?.bytesValue ?? []).toString('hex'), '00ff0a');
    assert.equal(s.flags, 0x301);
    assert.equal(s.parentSpanId?.length, 0);
    assert.ok(Buffer.isBuffer(s.parentSpanId), 'absent id reads as an empty Buffer');
    assert.equal(s.status?.code, 2);
  });

  it('metrics: summary, exemplars, negative exponential buckets, metadata, absent optional sum/min/max', () => {
    const d = codecs.metrics.decodeRequest(codecs.metrics.encodeRequest(handMetrics()));
    const [sum, summary, exp, hist] = d.resourceMetrics[0].scopeMetrics[0].metrics;
    assert.equal(String(sum.sum?.dataPoints[0].asInt), '-5');
    assert.equal(sum.metadata?.[0].key, 'prometheus.type');
    const ex = sum.sum?.dataPoints[0].exemplars ?? [];
    assert.equal(ex[0].asDouble, 0.5);
    assert.equal(Buffer.from(ex[0].traceId ?? []).toString('hex'), tid.toString('hex'));
    assert.equal(String(ex[1].asInt), '7');
    assert.deepEqual(summary.summary?.dataPoints[0].quantileValues.map((q) => [q.quantile, q.value]), [[0, 1], [0.99, 9.75], [1, 10]]);
    const e = exp.exponentialHistogram?.dataPoints[0];
    assert.equal(e?.scale, -2);
    assert.equal(e?.negative?.offset, 4);
    assert.equal(e?.positive?.offset, -3);
    assert.deepEqual(e?.positive?.bucketCounts.map(String), ['1', '0', '2']);
    assert.equal(e?.zeroThreshold, 1e-9);
    assert.equal(e?.min, -20);
    const h = hist.histogram?.dataPoints[0];
    assert.equal(h?.sum, 0, 'sum 0 set explicitly is present');
    assert.equal(h?.min, null, 'absent optional double reads as null');
  });
});

describe('OTLP/JSON', () => {
  it('encodes with the OTLP/JSON rules: hex ids, string 64-bit ints, integer enums, base64 bytes, no defaults', () => {
    const json = codecs.logs.encodeRequestJson(handLogs());
    assert.equal(json,
      '{"resourceLogs":[{"resource":{},"scopeLogs":[{"scope":{"name":"l","attributes":[{"key":"a","value":{"boolValue":true}}],"droppedAttributesCount":1},' +
      '"logRecords":[{"timeUnixNano":"1","severityNumber":17,"severityText":"ERROR","body":{"kvlistValue":{"values":[{"key":"b","value":{"bytesValue":"aGk="}}]}},' +
      '"droppedAttributesCount":2,"flags":1,"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","observedTimeUnixNano":"2","eventName":"ev"}]}]}]}');
    const t = codecs.traces.encodeRequestJson(handTraces());
    assert.match(t, /"startTimeUnixNano":"18446744073709551615"/);
    assert.match(t, /"key":"nan","value":\{"doubleValue":"NaN"\}/);
    assert.match(t, /"key":"inf","value":\{"doubleValue":"-Infinity"\}/);
    assert.match(t, /"key":"zero","value":\{"intValue":"0"\}/);
    assert.match(t, /"key":"none","value":\{\}/);
    assert.doesNotMatch(t, /parentSpanId/);
  });

  it('decodes what other senders write: numbers for 64-bit ints, enum names, snake_case keys, unknown fields, nulls', () => {
    const text = JSON.stringify({
      resource_spans: [{
        unknownTop: { x: 1 },
        scopeSpans: [{
          spans: [{
            traceId: '0AF7651916CD43DD8448EB211C80319C', span_id: 'b7ad6b7169203331', parentSpanId: '', name: 'n',
            kind: 'SPAN_KIND_CLIENT', startTimeUnixNano: 1700000000000000000, endTimeUnixNano: '1700000000000000001',
            attributes: [{ key: 'i', value: { intValue: 5 } }, { key: 'd', value: { doubleValue: 'Infinity' } }, { key: 'n', value: null }],
            status: { code: 'STATUS_CODE_ERROR', message: null }, droppedEventsCount: '3', flags: null, futureField: [1, 2],
          }],
        }],
      }],
    });
    const d = codecs.traces.decodeRequestJson(text);
    const s = d.resourceSpans[0].scopeSpans[0].spans[0];
    assert.equal(s.kind, 3);
    assert.equal(s.status?.code, 2);
    assert.equal(s.droppedEventsCount, 3);
    assert.equal(s.startTimeUnixNano?.toString(), '1700000000000000000');
    assert.equal((s.startTimeUnixNano as Long).unsigned, true);
    assert.equal(s.endTimeUnixNano?.toString(), '1700000000000000001');
    assert.equal(Buffer.from(s.traceId ?? []).toString('hex'), '0af7651916cd43dd8448eb211c80319c');
    assert.equal(s.attributes[0].value?.intValue?.toString(), '5');
    assert.equal(s.attributes[1].value?.doubleValue, Infinity);
    assert.equal(s.attributes[2].value, null);
    assert.ok(!Object.prototype.hasOwnProperty.call(s, 'flags'), 'null means default');
  });

  const bad: Array<[string, string, RegExp]> = [
    ['syntax', '{"resourceSpans":[', /invalid JSON/],
    ['top level', '[]', /<root>: expected an object/],
    ['repeated not array', '{"resourceSpans":{}}', /^resourceSpans: expected an array/],
    ['id length', '{"resourceSpans":[{"scopeSpans":[{},{"spans":[{},{},{},{"traceId":"abcd"}]}]}]}', /^resourceSpans\[0\]\.scopeSpans\[1\]\.spans\[3\]\.traceId: expected 32 hex characters$/],
    ['id not hex', `{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"zzzzzzzzzzzzzzzz"}]}]}]}`, /spans\[0\]\.spanId: expected 16 hex characters/],
    ['id base64', `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"CvdlGRbNQ92ESOshHIAxnA=="}]}]}]}`, /traceId: expected 32 hex characters/],
    ['int64 text', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"soon"}]}]}]}', /startTimeUnixNano: expected an unsigned integer/],
    ['uint64 negative', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"endTimeUnixNano":-1}]}]}]}', /endTimeUnixNano: expected an unsigned integer/],
    ['int64 overflow', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"intValue":"9223372036854775808"}}]}]}]}]}', /attributes\[0\]\.value\.intValue: integer out of 64-bit range/],
    ['fraction', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"droppedLinksCount":1.5}]}]}]}', /droppedLinksCount: expected an integer/],
    ['enum name', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_BOGUS"}]}]}]}', /kind: unknown enum value "SPAN_KIND_BOGUS"/],
    ['string type', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":42}]}]}]}', /spans\[0\]\.name: expected a string/],
    ['bool type', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"b","value":{"boolValue":"true"}}]}]}]}]}', /boolValue: expected true or false/],
    ['base64', '{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"b","value":{"bytesValue":"!!"}}]}]}]}]}', /bytesValue: expected base64/],
    ['message type', '{"resourceSpans":[{"resource":"r"}]}', /resourceSpans\[0\]\.resource: expected an object/],
  ];
  for (const [name, text, re] of bad) {
    it(`rejects bad input with PermanentError naming where: ${name}`, () => {
      throwsPermanent(() => codecs.traces.decodeRequestJson(text), re);
      throwsPermanent(() => codecs.traces.decodeRequestJson(Buffer.from(text)), re);
    });
  }

  it('hostile nesting is a PermanentError (same depth limit as protobuf decode), not a stack overflow', () => {
    const nest = (n: number) => {
      let v = '{"stringValue":"x"}';
      for (let i = 0; i < n; i++) v = `{"arrayValue":{"values":[${v}]}}`;
      return `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${v}}]}]}]}`;
    };
    throwsPermanent(() => codecs.logs.decodeRequestJson(nest(20000)), /nested deeper than 100 messages/);
    // Depth that protobuf accepts, JSON accepts too, both ways.
    const ok = codecs.logs.decodeRequestJson(nest(40));
    assert.equal(codecs.logs.encodeRequestJson(ok), nest(40));
    assertSameMessage(LOGS_REQ, codecs.logs.decodeRequest(codecs.logs.encodeRequest(ok)), ok);
  });
});

describe('OTLP protobuf: malformed input', () => {
  const good = Buffer.from(codecs.traces.encodeRequest(handTraces()));

  it('random bytes: PermanentError or a decoded message, never another error', () => {
    const rand = rng(42);
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.alloc(1 + Math.floor(rand() * 200));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rand() * 256);
      for (const codec of [codecs.traces, codecs.metrics, codecs.logs] as const) {
        try {
          codec.decodeRequest(b);
        } catch (err) {
          assert.ok(err instanceof PermanentError, `iteration ${i}: ${String(err)}`);
          rejected++;
        }
      }
    }
    assert.ok(rejected > 6000, `most random inputs are rejected (${rejected}/9000)`);
  });

  it('every truncation of a valid request: PermanentError or a (shorter) valid message', () => {
    let rejected = 0;
    for (let n = 0; n < good.length; n++) {
      try {
        codecs.traces.decodeRequest(good.subarray(0, n));
      } catch (err) {
        assert.ok(err instanceof PermanentError, `length ${n}: ${String(err)}`);
        rejected++;
      }
    }
    assert.ok(rejected > good.length / 2, `${rejected}/${good.length} truncations rejected`);
    throwsPermanent(() => codecs.traces.decodeRequest(good.subarray(0, good.length - 1)), /malformed OTLP traces request/);
  });

  it('wrong id lengths: PermanentError naming the span', () => {
    const t = handTraces();
    t.resourceSpans[0].scopeSpans[0].spans.push({ ...t.resourceSpans[0].scopeSpans[0].spans[0], traceId: Buffer.from([1, 2, 3]) });
    throwsPermanent(() => codecs.traces.decodeRequest(codecs.traces.encodeRequest(t)), /^resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[1\]\.traceId: expected 16 bytes, got 3$/);
    const l = handLogs();
    l.resourceLogs[0].scopeLogs[0].logRecords[0].spanId = Buffer.alloc(16);
    throwsPermanent(() => codecs.logs.decodeRequest(codecs.logs.encodeRequest(l)), /logRecords\[0\]\.spanId: expected 8 bytes, got 16/);
    const m = handMetrics();
    const ex = m.resourceMetrics[0].scopeMetrics[0].metrics[0].sum?.dataPoints[0].exemplars[0];
    if (ex) ex.traceId = Buffer.alloc(8);
    throwsPermanent(() => codecs.metrics.decodeRequest(codecs.metrics.encodeRequest(m)), /exemplars\[0\]\.traceId: expected 16 bytes, got 8/);
  });

  it('invalid wire type, overlong lengths, deep nesting, and non-bytes input are PermanentError', () => {
    // Wire type 7 does not exist.
    throwsPermanent(() => codecs.traces.decodeRequest(Buffer.from('0f', 'hex')));
    // resource_spans (field 1) announces 5 bytes, none follow.
    throwsPermanent(() => codecs.traces.decodeRequest(Buffer.from('0a05', 'hex')), /malformed OTLP traces request/);
    // A length that overflows a varint.
    throwsPermanent(() => codecs.traces.decodeRequest(Buffer.from('0affffffffffffffffffff01', 'hex')));
    // body = array_value{values=[array_value{...}]} nested far beyond any sane depth.
    let inner = Buffer.from('0a0178', 'hex'); // AnyValue{string_value:"x"}
    for (let i = 0; i < 10000; i++) {
      const arr = Buffer.concat([Buffer.from([0x0a]), varint(inner.length), inner]); // ArrayValue{values}
      inner = Buffer.concat([Buffer.from([0x2a]), varint(arr.length), arr]); // AnyValue{array_value}
    }
    throwsPermanent(() => codecs.logs.decodeRequest(wrapLogBody(inner)), /max depth exceeded/);
    throwsPermanent(() => codecs.traces.decodeRequest('not bytes' as unknown as Uint8Array), /expected bytes/);
  });

  it('a Uint8Array view (not a Buffer) decodes to Buffer ids, without copying the input', () => {
    const copy = new Uint8Array(good.length + 4);
    copy.set(good, 4);
    const d = codecs.traces.decodeRequest(copy.subarray(4));
    const id = d.resourceSpans[0].scopeSpans[0].spans[0].traceId;
    assert.ok(Buffer.isBuffer(id), 'Buffer');
    assert.equal(id?.buffer, copy.buffer, 'ids are views into the request buffer');
  });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}
function field(tag: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), varint(payload.length), payload]);
}
function wrapLogBody(anyValue: Buffer): Buffer {
  const rec = field(0x2a, anyValue); // LogRecord.body = 5
  const sl = field(0x12, rec); // ScopeLogs.log_records = 2
  const rl = field(0x12, sl); // ResourceLogs.scope_logs = 2
  return field(0x0a, rl); // request.resource_logs = 1
}

describe('OTLP responses and google.rpc.Status', () => {
  it('full success is the empty message; partial success carries count and message', () => {
    for (const [signal, key] of [['traces', 'rejectedSpans'], ['metrics', 'rejectedDataPoints'], ['logs', 'rejectedLogRecords']] as const) {
      const c = codecs[signal];
      assert.equal(c.encodeResponse().length, 0);
      assert.equal(c.encodeResponse({ rejected: 0, message: '' }).length, 0);
      assert.equal(c.encodeResponseJson(), '{}');
      assert.deepEqual(c.decodeResponse(new Uint8Array(0)), { rejected: 0, message: '' });
      assert.deepEqual(c.decodeResponse(c.encodeResponse({ rejected: 7, message: 'too old' })), { rejected: 7, message: 'too old' });
      assert.deepEqual(c.decodeResponse(c.encodeResponse({ rejected: 0, message: 'warning only' })), { rejected: 0, message: 'warning only' });
      assert.equal(c.encodeResponseJson({ rejected: 7, message: 'too old' }), `{"partialSuccess":{"${key}":"7","errorMessage":"too old"}}`);
      assert.deepEqual(c.decodeResponseJson(`{"partialSuccess":{"${key}":7,"errorMessage":"x"}}`), { rejected: 7, message: 'x' });
      assert.deepEqual(c.decodeResponseJson(Buffer.from('{}')), { rejected: 0, message: '' });
      throwsPermanent(() => c.decodeResponse(Buffer.from('0a05', 'hex')));
      throwsPermanent(() => c.decodeResponseJson('nope'));
    }
  });

  it('Status with and without RetryInfo, protobuf and JSON', () => {
    assert.deepEqual(decodeStatus(encodeStatus(14, 'busy', 2500)), { code: 14, message: 'busy', retryAfterMs: 2500 });
    assert.deepEqual(decodeStatus(encodeStatus(8, 'slow down', 0)), { code: 8, message: 'slow down', retryAfterMs: 0 });
    assert.deepEqual(decodeStatus(encodeStatus(3, 'bad')), { code: 3, message: 'bad' });
    // The RetryInfo detail is a google.protobuf.Any with the standard type URL.
    assert.ok(Buffer.from(encodeStatus(14, '', 1000)).includes(Buffer.from('type.googleapis.com/google.rpc.RetryInfo')), 'type URL');
    assert.equal(encodeStatusJson(3, 'bad "data"'), '{"code":3,"message":"bad \\"data\\""}');
    assert.deepEqual(decodeStatusJson(encodeStatusJson(3, 'x')), { code: 3, message: 'x' });
    throwsPermanent(() => decodeStatus(Buffer.from('1aff', 'hex')));
  });
});

describe('OTLP gRPC service definitions', function () {
  this.timeout(20_000);
  let server: grpc.Server;
  let address = '';
  let typedServer: grpc.Server;
  let typedAddress = '';
  const received: TracesData[] = [];

  before(async () => {
    // The receiver pattern: raw bytes in, decode in the handler, PermanentError -> INVALID_ARGUMENT.
    server = new grpc.Server();
    server.addService(otlpGrpcRawServices.traces, {
      Export: (call: grpc.ServerUnaryCall<Buffer, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        try {
          const data = codecs.traces.decodeRequest(call.request);
          received.push(data);
          cb(null, { rejected: 1, message: 'one span was too old' });
        } catch (err) {
          cb({ code: err instanceof PermanentError ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL, details: (err as Error).message });
        }
      },
    });
    address = await bind(server);
    // A server on the decoding definitions, to record what grpc-js does with a throwing deserializer.
    typedServer = new grpc.Server();
    typedServer.addService(otlpGrpcServices.traces, {
      Export: (_call: grpc.ServerUnaryCall<TracesData, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { rejected: 0, message: '' }),
    });
    typedAddress = await bind(typedServer);
  });
  after(() => {
    server?.forceShutdown();
    typedServer?.forceShutdown();
  });

  function bind(s: grpc.Server): Promise<string> {
    return new Promise((resolve, reject) => s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(`127.0.0.1:${port}`))));
  }
  function call(ctorDef: grpc.ServiceDefinition, addr: string, req: unknown): Promise<unknown> {
    const Client = grpc.makeGenericClientConstructor(ctorDef, otlpGrpcServiceNames.traces);
    const client = new Client(addr, grpc.credentials.createInsecure());
    return new Promise((resolve, reject) => {
      (client.Export as (r: unknown, cb: (e: grpc.ServiceError | null, v: unknown) => void) => void)(req, (err, value) => {
        client.close();
        if (err) reject(err);
        else resolve(value);
      });
    });
  }

  it('a pdata request goes through the typed client; the partial success comes back decoded', async () => {
    const resp = await call(otlpGrpcServices.traces, address, handTraces());
    assert.deepEqual(resp, { rejected: 1, message: 'one span was too old' });
    assertSameMessage(TRACE_REQ, received.at(-1), codecs.traces.decodeRequest(codecs.traces.encodeRequest(handTraces())));
  });

  it('pre-encoded bytes go through the raw client', async () => {
    const resp = await call(otlpGrpcRawServices.traces, address, codecs.traces.encodeRequest(handTraces()));
    assert.deepEqual(resp, { rejected: 1, message: 'one span was too old' });
  });

  it('malformed bytes: the raw-definition receiver answers INVALID_ARGUMENT with the codec message', async () => {
    await assert.rejects(call(otlpGrpcRawServices.traces, address, Buffer.from('0aff01', 'hex')), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /malformed OTLP traces request/);
      return true;
    });
  });

  it('grpc-js itself answers INTERNAL when a deserializer throws (why receivers use the raw definitions)', async () => {
    await assert.rejects(call(otlpGrpcRawServices.traces, typedAddress, Buffer.from('0aff01', 'hex')), (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.INTERNAL);
      assert.match(err.details, /Error deserializing request/);
      return true;
    });
  });

  it('paths are the OTLP ones', () => {
    assert.equal(otlpGrpcServices.metrics.Export.path, '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export');
    assert.equal(otlpGrpcRawServices.logs.Export.path, '/opentelemetry.proto.collector.logs.v1.LogsService/Export');
    assert.equal(codecs.traces.grpcPath, '/opentelemetry.proto.collector.trace.v1.TraceService/Export');
    assert.deepEqual([codecs.traces.httpPath, codecs.metrics.httpPath, codecs.logs.httpPath], ['/v1/traces', '/v1/metrics', '/v1/logs']);
  });
});
