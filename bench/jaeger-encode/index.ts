// bench/jaeger-encode: spans/s of the jaeger exporter's Thrift encoder (OTLP pdata -> Batch
// bytes, mapping included) against the npm `thrift` package's generated code writing the same
// Batch with TBinaryProtocol from ready-made objects (mapping excluded: the baseline is favoured).
// Both outputs are checked to be the same bytes first. Rounds alternate; medians are reported.
//
// run: npm run bench -- jaeger-encode   (or node dist/bench/jaeger-encode/index.js)
import Long from 'long';
import { ThriftWriter, writeBatch } from '../../exporters/jaeger/thrift';
import type { KeyValue, ResourceSpans, Span } from '../../pipeline/pdata';
import { readGenerated, writeGenerated } from '../../test/fixtures/jaeger/decoder';

const SPANS = Number(process.env['SONDE_BENCH_SPANS'] ?? 1000);
const ROUNDS = Number(process.env['SONDE_BENCH_ROUNDS'] ?? 5);
const ROUND_MS = Number(process.env['SONDE_BENCH_ROUND_MS'] ?? 2000);

function id(n: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUInt32BE(n >>> 0, bytes - 4);
  b.writeUInt32BE(0x9e3779b9, 0);
  return b;
}

/** A batch-processor-sized request: one resource, one scope, spans with 8 attributes and 1 event. */
function workload(): ResourceSpans {
  const t0 = Long.fromString('1700000000000000000', true);
  const spans: Span[] = [];
  for (let i = 0; i < SPANS; i++) {
    const attrs: KeyValue[] = [
      { key: 'http.request.method', value: { stringValue: i % 2 ? 'GET' : 'POST' } },
      { key: 'url.path', value: { stringValue: `/api/v1/items/${i}` } },
      { key: 'http.response.status_code', value: { intValue: Long.fromNumber(200 + (i % 5)) } },
      { key: 'server.address', value: { stringValue: 'shop.internal' } },
      { key: 'server.port', value: { intValue: Long.fromNumber(8080) } },
      { key: 'network.protocol.version', value: { stringValue: '1.1' } },
      { key: 'cache.hit', value: { boolValue: i % 3 === 0 } },
      { key: 'ratio', value: { doubleValue: i / 7 } },
    ];
    spans.push({
      traceId: id(i >> 3, 16), spanId: id(i, 8), parentSpanId: i % 8 ? id(i - 1, 8) : undefined, name: `GET /api/v1/items/{id}`, kind: 2,
      startTimeUnixNano: t0.add(i * 1000), endTimeUnixNano: t0.add(i * 1000 + 2_500_000), flags: 1,
      attributes: attrs, events: [{ timeUnixNano: t0.add(i * 1000 + 1000), name: 'cache.lookup', attributes: [{ key: 'cache.key', value: { stringValue: `k${i}` } }] }],
      links: [], status: { code: i % 50 === 0 ? 2 : 0, message: i % 50 === 0 ? 'failed' : '' },
    });
  }
  return {
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, { key: 'host.name', value: { stringValue: 'node-a' } }, { key: 'k8s.pod.name', value: { stringValue: 'checkout-7f9c' } }] },
    scopeSpans: [{ scope: { name: 'io.sonde.http', version: '1.0.0', attributes: [] }, spans }],
  };
}

/** Batches per second of `f` for about ROUND_MS. */
function rate(f: () => unknown): number {
  let n = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(ROUND_MS) * 1_000_000n;
  let now = start;
  while (now < until) {
    for (let i = 0; i < 10; i++) f();
    n += 10;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function main(): void {
  const rs = workload();
  const writer = new ThriftWriter();
  const ours = (): Buffer => {
    writer.reset();
    writeBatch(writer, [rs]);
    return writer.take();
  };
  const bytes = ours();
  const objects = readGenerated(bytes);
  const theirs = (): Buffer => writeGenerated(objects);
  if (!theirs().equals(bytes)) throw new Error('the two encoders disagree: not comparable');
  // Warm both up before measuring.
  for (let i = 0; i < 50; i++) { ours(); theirs(); }
  const oursRounds: number[] = [];
  const theirRounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    oursRounds.push(rate(ours) * SPANS);
    theirRounds.push(rate(theirs) * SPANS);
    process.stderr.write(`jaeger-encode: round ${r + 1}: ours ${Math.round(oursRounds[r]!)} spans/s, thrift package ${Math.round(theirRounds[r]!)} spans/s\n`);
  }
  const value = median(oursRounds);
  const baseline = median(theirRounds);
  console.log(JSON.stringify({
    bench: 'jaeger-encode', value: Math.round(value), unit: 'spans/s', baseline: Math.round(baseline),
    baseline_name: 'npm thrift 0.24 generated code, TBinaryProtocol, Batch objects built beforehand (mapping excluded)',
    ratio: Number((value / baseline).toFixed(2)),
    goal: 'ratio > 1: pdata -> Thrift bytes, mapping included, faster than the thrift package only serializing',
    details: {
      spans_per_batch: SPANS, batch_bytes: bytes.length, rounds: ROUNDS, round_ms: ROUND_MS,
      ours_rounds: oursRounds.map(Math.round), baseline_rounds: theirRounds.map(Math.round), node: process.version,
    },
  }));
}

main();
