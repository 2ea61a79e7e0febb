// Prometheus remote-write 1.0 (prometheus.WriteRequest) encoded by hand: the handful of messages
// it has do not need a protobuf runtime, and sizes are known before encoding, which the
// max_batch_size_bytes split needs. Field numbers are those of Prometheus' prompb/types.proto
// and remote.proto (wire facts); proven against a real Prometheus in the integration tests.
//
//   WriteRequest   { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
//   TimeSeries     { repeated Label labels = 1; repeated Sample samples = 2;
//                    repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
//   Label          { string name = 1; string value = 2; }
//   Sample         { double value = 1; int64 timestamp = 2; }
//   Exemplar       { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
//   Histogram      { uint64 count_int = 1; double sum = 3; sint32 schema = 4;
//                    double zero_threshold = 5; uint64 zero_count_int = 6;
//                    repeated BucketSpan negative_spans = 8; repeated sint64 negative_deltas = 9;
//                    repeated BucketSpan positive_spans = 11; repeated sint64 positive_deltas = 12;
//                    ResetHint reset_hint = 14; int64 timestamp = 15; }
//   BucketSpan     { sint32 offset = 1; uint32 length = 2; }
//   MetricMetadata { MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }

export interface Label { name: string; value: string }
export interface Sample { value: number; timestamp: number }
export interface Exemplar { labels: Label[]; value: number; timestamp: number }
export interface BucketSpan { offset: number; length: number }

export enum ResetHint { UNKNOWN = 0, YES = 1, NO = 2, GAUGE = 3 }

/** A native histogram with integer counts (the only kind OTel exponential histograms give). */
export interface NativeHistogram {
  count: number;
  sum: number;
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  negativeSpans: BucketSpan[];
  negativeDeltas: number[];
  positiveSpans: BucketSpan[];
  positiveDeltas: number[];
  resetHint: ResetHint;
  timestamp: number;
}

export interface TimeSeries { labels: Label[]; samples: Sample[]; exemplars: Exemplar[]; histograms: NativeHistogram[] }

export enum MetricType { UNKNOWN = 0, COUNTER = 1, GAUGE = 2, HISTOGRAM = 3, GAUGEHISTOGRAM = 4, SUMMARY = 5, INFO = 6, STATESET = 7 }
export interface MetricMetadata { type: MetricType; metricFamilyName: string; help: string; unit: string }

export interface WriteRequest { timeseries: TimeSeries[]; metadata: MetricMetadata[] }

// ---- sizes -------------------------------------------------------------------------------------

function varintSize(v: number): number {
  // v is a non-negative integer below 2^64 held exactly enough (timestamps, counts < 2^53).
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** int64 on the wire: negatives take 10 bytes (two's complement). */
function int64Size(v: number): number {
  return v < 0 ? 10 : varintSize(v);
}

function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

function stringSize(field: number, s: string): number {
  if (s === '') return 0;
  const len = Buffer.byteLength(s);
  return tagSize(field) + varintSize(len) + len;
}

function tagSize(field: number): number {
  return varintSize(field << 3);
}

function messageSize(field: number, body: number): number {
  return tagSize(field) + varintSize(body) + body;
}

function labelBody(l: Label): number {
  return stringSize(1, l.name) + stringSize(2, l.value);
}

function sampleBody(s: Sample): number {
  return (s.value === 0 && !Object.is(s.value, -0) ? 0 : 9) + (s.timestamp === 0 ? 0 : 1 + int64Size(s.timestamp));
}

function exemplarBody(e: Exemplar): number {
  let n = 0;
  for (const l of e.labels) n += messageSize(1, labelBody(l));
  if (e.value !== 0) n += 9;
  if (e.timestamp !== 0) n += 1 + int64Size(e.timestamp);
  return n;
}

function spanBody(s: BucketSpan): number {
  return (s.offset === 0 ? 0 : 1 + varintSize(zigzag(s.offset))) + (s.length === 0 ? 0 : 1 + varintSize(s.length));
}

function packedSint64Body(list: number[]): number {
  let n = 0;
  for (const v of list) n += varintSize(zigzag(v));
  return n;
}

function histogramBody(h: NativeHistogram): number {
  let n = 0;
  if (h.count !== 0) n += 1 + varintSize(h.count);
  if (h.sum !== 0 || Number.isNaN(h.sum)) n += 9;
  if (h.schema !== 0) n += 1 + varintSize(zigzag(h.schema));
  if (h.zeroThreshold !== 0) n += 9;
  if (h.zeroCount !== 0) n += 1 + varintSize(h.zeroCount);
  for (const s of h.negativeSpans) n += messageSize(8, spanBody(s));
  if (h.negativeDeltas.length) n += messageSize(9, packedSint64Body(h.negativeDeltas));
  for (const s of h.positiveSpans) n += messageSize(11, spanBody(s));
  if (h.positiveDeltas.length) n += messageSize(12, packedSint64Body(h.positiveDeltas));
  if (h.resetHint !== 0) n += 1 + varintSize(h.resetHint);
  if (h.timestamp !== 0) n += 1 + int64Size(h.timestamp);
  return n;
}

export function timeSeriesBody(ts: TimeSeries): number {
  let n = 0;
  for (const l of ts.labels) n += messageSize(1, labelBody(l));
  for (const s of ts.samples) n += messageSize(2, sampleBody(s));
  for (const e of ts.exemplars) n += messageSize(3, exemplarBody(e));
  for (const h of ts.histograms) n += messageSize(4, histogramBody(h));
  return n;
}

function metadataBody(m: MetricMetadata): number {
  return (m.type === 0 ? 0 : 1 + varintSize(m.type)) + stringSize(2, m.metricFamilyName) + stringSize(4, m.help) + stringSize(5, m.unit);
}

/** Bytes one series adds to a WriteRequest. */
export function timeSeriesSize(ts: TimeSeries): number {
  return messageSize(1, timeSeriesBody(ts));
}

/** Bytes one metadata entry adds to a WriteRequest. */
export function metadataSize(m: MetricMetadata): number {
  return messageSize(3, metadataBody(m));
}

// ---- writing -----------------------------------------------------------------------------------

class Writer {
  readonly buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  varint(v: number): void {
    while (v >= 128) {
      this.buf[this.pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  int64(v: number): void {
    if (v >= 0) {
      this.varint(v);
      return;
    }
    // Two's complement over 64 bits, 10 bytes.
    let big = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.buf[this.pos++] = Number(big);
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  double(field: number, v: number): void {
    this.tag(field, 1);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  string(field: number, s: string): void {
    if (s === '') return;
    const len = Buffer.byteLength(s);
    this.tag(field, 2);
    this.varint(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }

  header(field: number, body: number): void {
    this.tag(field, 2);
    this.varint(body);
  }
}

function writeLabel(w: Writer, field: number, l: Label): void {
  w.header(field, labelBody(l));
  w.string(1, l.name);
  w.string(2, l.value);
}

function writeSample(w: Writer, s: Sample): void {
  w.header(2, sampleBody(s));
  if (s.value !== 0 || Object.is(s.value, -0)) w.double(1, s.value);
  if (s.timestamp !== 0) {
    w.tag(2, 0);
    w.int64(s.timestamp);
  }
}

function writeExemplar(w: Writer, e: Exemplar): void {
  w.header(3, exemplarBody(e));
  for (const l of e.labels) writeLabel(w, 1, l);
  if (e.value !== 0) w.double(2, e.value);
  if (e.timestamp !== 0) {
    w.tag(3, 0);
    w.int64(e.timestamp);
  }
}

function writeSpan(w: Writer, field: number, s: BucketSpan): void {
  w.header(field, spanBody(s));
  if (s.offset !== 0) {
    w.tag(1, 0);
    w.varint(zigzag(s.offset));
  }
  if (s.length !== 0) {
    w.tag(2, 0);
    w.varint(s.length);
  }
}

function writePackedSint64(w: Writer, field: number, list: number[]): void {
  if (!list.length) return;
  w.header(field, packedSint64Body(list));
  for (const v of list) w.varint(zigzag(v));
}

function writeHistogram(w: Writer, h: NativeHistogram): void {
  w.header(4, histogramBody(h));
  if (h.count !== 0) { w.tag(1, 0); w.varint(h.count); }
  if (h.sum !== 0 || Number.isNaN(h.sum)) w.double(3, h.sum);
  if (h.schema !== 0) { w.tag(4, 0); w.varint(zigzag(h.schema)); }
  if (h.zeroThreshold !== 0) w.double(5, h.zeroThreshold);
  if (h.zeroCount !== 0) { w.tag(6, 0); w.varint(h.zeroCount); }
  for (const s of h.negativeSpans) writeSpan(w, 8, s);
  writePackedSint64(w, 9, h.negativeDeltas);
  for (const s of h.positiveSpans) writeSpan(w, 11, s);
  writePackedSint64(w, 12, h.positiveDeltas);
  if (h.resetHint !== 0) { w.tag(14, 0); w.varint(h.resetHint); }
  if (h.timestamp !== 0) { w.tag(15, 0); w.int64(h.timestamp); }
}

function writeTimeSeries(w: Writer, ts: TimeSeries): void {
  w.header(1, timeSeriesBody(ts));
  for (const l of ts.labels) writeLabel(w, 1, l);
  for (const s of ts.samples) writeSample(w, s);
  for (const e of ts.exemplars) writeExemplar(w, e);
  for (const h of ts.histograms) writeHistogram(w, h);
}

function writeMetadata(w: Writer, m: MetricMetadata): void {
  w.header(3, metadataBody(m));
  if (m.type !== 0) { w.tag(1, 0); w.varint(m.type); }
  w.string(2, m.metricFamilyName);
  w.string(4, m.help);
  w.string(5, m.unit);
}

/** The protobuf bytes of a WriteRequest (not yet snappy-compressed). */
export function encodeWriteRequest(req: WriteRequest): Buffer {
  let size = 0;
  for (const ts of req.timeseries) size += timeSeriesSize(ts);
  for (const m of req.metadata) size += metadataSize(m);
  const w = new Writer(size);
  for (const ts of req.timeseries) writeTimeSeries(w, ts);
  for (const m of req.metadata) writeMetadata(w, m);
  if (w.pos !== size) throw new Error(`remote-write encoder: wrote ${w.pos} bytes, sized ${size}`);
  return w.buf;
}

/**
 * Splits series and metadata into requests of at most maxBytes encoded bytes each, in order.
 * A single series larger than maxBytes goes alone in its request (it cannot be cut).
 */
export function splitWriteRequests(timeseries: TimeSeries[], metadata: MetricMetadata[], maxBytes: number): WriteRequest[] {
  const out: WriteRequest[] = [];
  let current: WriteRequest = { timeseries: [], metadata: [] };
  let size = 0;
  const flush = (): void => {
    if (current.timeseries.length || current.metadata.length) out.push(current);
    current = { timeseries: [], metadata: [] };
    size = 0;
  };
  for (const ts of timeseries) {
    const n = timeSeriesSize(ts);
    if (size > 0 && size + n > maxBytes) flush();
    current.timeseries.push(ts);
    size += n;
  }
  for (const m of metadata) {
    const n = metadataSize(m);
    if (size > 0 && size + n > maxBytes) flush();
    current.metadata.push(m);
    size += n;
  }
  flush();
  return out;
}
