// OTLP request/response codecs for the three signals, protobuf and JSON, plus google.rpc.Status.
//
// Protobuf requests go through the hand-written codec in fast-decode.ts / fast-encode.ts (the hot
// path: every span crosses it twice); responses and google.rpc.Status through protobufjs, which
// stays the reference the fast codec is tested against. Decode yields objects of protobufjs'
// generated classes, exactly as protobufjs' own decode would: they satisfy the pdata interfaces
// (proto3 defaults on the prototype, fixed64/int64 as Long, bytes as Buffer views into the
// request buffer), so there is no conversion on the hot path. proto3 `optional` fields
// (histogram sum/min/max) read as null when absent.
// Encode accepts those objects as well as plain objects built by hand (absent = default), and
// writes the same bytes protobufjs would.
import * as protobuf from 'protobufjs';
import Long from 'long';
import type { Signal, SignalData } from '../pdata';
import { PermanentError, errorMessage } from '../errors';
import { otlpType } from './schema';
import { decodeLogsFast, decodeMetricsFast, decodeTracesFast } from './fast-decode';
import { encodeLogsFast, encodeMetricsFast, encodeTracesFast } from './fast-encode';
import { WireError, locate, type Msg } from './fast-wire';
import { decodeJson, encodeJson } from './json';

export interface PartialSuccess { rejected: number; message: string }

export interface SignalCodec<S extends Signal> {
  readonly signal: S;
  /** '/opentelemetry.proto.collector.trace.v1.TraceService/Export' etc. */
  readonly grpcPath: string;
  /** '/v1/traces', '/v1/metrics', '/v1/logs' */
  readonly httpPath: string;
  /** Throws PermanentError with a clear message on malformed input. */
  decodeRequest(bytes: Uint8Array): SignalData[S];
  encodeRequest(data: SignalData[S]): Uint8Array;
  /** Throws PermanentError naming the offending field. */
  decodeRequestJson(text: string | Uint8Array): SignalData[S];
  /** OTLP/JSON, one line, no trailing newline. */
  encodeRequestJson(data: SignalData[S]): string;
  /** No argument, or nothing rejected and no message: the empty (full success) response. */
  encodeResponse(partial?: PartialSuccess): Uint8Array;
  decodeResponse(bytes: Uint8Array): PartialSuccess;
  encodeResponseJson(partial?: PartialSuccess): string;
  decodeResponseJson(text: string | Uint8Array): PartialSuccess;
}

type Obj = Record<string, unknown>;

interface SignalSpec {
  pkg: string;
  service: string;
  kind: 'Trace' | 'Metrics' | 'Logs';
  httpPath: string;
  rejectedField: string;
}

const SPECS: { [S in Signal]: SignalSpec } = {
  traces: { pkg: 'opentelemetry.proto.collector.trace.v1', service: 'TraceService', kind: 'Trace', httpPath: '/v1/traces', rejectedField: 'rejectedSpans' },
  metrics: { pkg: 'opentelemetry.proto.collector.metrics.v1', service: 'MetricsService', kind: 'Metrics', httpPath: '/v1/metrics', rejectedField: 'rejectedDataPoints' },
  logs: { pkg: 'opentelemetry.proto.collector.logs.v1', service: 'LogsService', kind: 'Logs', httpPath: '/v1/logs', rejectedField: 'rejectedLogRecords' },
};

/** A Buffer view (no copy): protobufjs then yields Buffer bytes fields whatever the caller passed. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function decodeProto(type: protobuf.Type, bytes: Uint8Array, what: string): Obj {
  if (!(bytes instanceof Uint8Array)) throw new PermanentError(`${what}: expected bytes`);
  try {
    return type.decode(asBuffer(bytes)) as unknown as Obj;
  } catch (err) {
    // protobufjs throws RangeError (truncated) / Error (bad wire type); deep garbage can also
    // overflow the stack. All of them mean the bytes are not this message.
    throw new PermanentError(`malformed ${what}: ${errorMessage(err)}`, { cause: err });
  }
}

function encodeProto(type: protobuf.Type, msg: object, what: string): Uint8Array {
  try {
    return type.encode(msg).finish();
  } catch (err) {
    throw new PermanentError(`cannot encode ${what}: ${errorMessage(err)}`, { cause: err });
  }
}

interface FastCodec { decode(bytes: Uint8Array): Msg; encode(msg: Msg): Uint8Array }

const FAST: { [S in Signal]: FastCodec } = {
  traces: { decode: decodeTracesFast, encode: encodeTracesFast },
  metrics: { decode: decodeMetricsFast, encode: encodeMetricsFast },
  logs: { decode: decodeLogsFast, encode: encodeLogsFast },
};

/** A fast-decode failure as PermanentError, naming the field where the bytes went wrong. */
function malformed(type: protobuf.Type, bytes: Uint8Array, err: unknown, what: string): PermanentError {
  if (err instanceof WireError) {
    let path = locate(type, bytes, err.offset);
    if (path.length > 300) path = `${path.slice(0, 140)}...${path.slice(-140)}`;
    return new PermanentError(`malformed ${what}: ${path ? `${path}: ` : ''}${err.message}`, { cause: err });
  }
  return new PermanentError(`malformed ${what}: ${errorMessage(err)}`, { cause: err });
}

function toNumber(v: unknown): number {
  if (Long.isLong(v)) return (v as Long).toNumber();
  return typeof v === 'number' ? v : Number(v ?? 0);
}

// ---- cheap structural checks on decoded requests -----------------------------------------------
// Ids must be empty or exactly 16 (trace) / 8 (span) bytes, as the Collector's pdata insists; a
// length is one comparison per id.

/** -1 when the id is empty or of the right size, else its length. */
function badLength(id: unknown, size: number): number {
  const n = (id as Uint8Array | null | undefined)?.length ?? 0;
  return n === 0 || n === size ? -1 : n;
}

// Paths are only built once something is wrong: no per-item allocation on the good path.
function idError(path: string, size: number, got: number): never {
  throw new PermanentError(`${path}: expected ${size} bytes, got ${got}`);
}

type Arr = readonly Obj[];

function spanAt(i: number, j: number, k: number): string {
  return `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]`;
}

function checkTraces(req: Obj): void {
  const rss = req.resourceSpans as Arr;
  for (let i = 0; i < rss.length; i++) {
    const sss = rss[i].scopeSpans as Arr;
    for (let j = 0; j < sss.length; j++) {
      const spans = sss[j].spans as Arr;
      for (let k = 0; k < spans.length; k++) {
        const s = spans[k];
        let n: number;
        if ((n = badLength(s.traceId, 16)) >= 0) idError(`${spanAt(i, j, k)}.traceId`, 16, n);
        if ((n = badLength(s.spanId, 8)) >= 0) idError(`${spanAt(i, j, k)}.spanId`, 8, n);
        if ((n = badLength(s.parentSpanId, 8)) >= 0) idError(`${spanAt(i, j, k)}.parentSpanId`, 8, n);
        const links = s.links as Arr;
        for (let l = 0; l < links.length; l++) {
          if ((n = badLength(links[l].traceId, 16)) >= 0) idError(`${spanAt(i, j, k)}.links[${l}].traceId`, 16, n);
          if ((n = badLength(links[l].spanId, 8)) >= 0) idError(`${spanAt(i, j, k)}.links[${l}].spanId`, 8, n);
        }
      }
    }
  }
}

function checkLogs(req: Obj): void {
  const rls = req.resourceLogs as Arr;
  for (let i = 0; i < rls.length; i++) {
    const sls = rls[i].scopeLogs as Arr;
    for (let j = 0; j < sls.length; j++) {
      const recs = sls[j].logRecords as Arr;
      for (let k = 0; k < recs.length; k++) {
        let n: number;
        if ((n = badLength(recs[k].traceId, 16)) >= 0) idError(`resourceLogs[${i}].scopeLogs[${j}].logRecords[${k}].traceId`, 16, n);
        if ((n = badLength(recs[k].spanId, 8)) >= 0) idError(`resourceLogs[${i}].scopeLogs[${j}].logRecords[${k}].spanId`, 8, n);
      }
    }
  }
}

function exemplarAt(i: number, j: number, k: number, d: number, e: number): string {
  return `resourceMetrics[${i}].scopeMetrics[${j}].metrics[${k}].dataPoints[${d}].exemplars[${e}]`;
}

function checkMetrics(req: Obj): void {
  const rms = req.resourceMetrics as Arr;
  for (let i = 0; i < rms.length; i++) {
    const sms = rms[i].scopeMetrics as Arr;
    for (let j = 0; j < sms.length; j++) {
      const metrics = sms[j].metrics as Arr;
      for (let k = 0; k < metrics.length; k++) {
        const m = metrics[k];
        const body = (m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram) as Obj | null | undefined;
        if (!body) continue; // summaries have no exemplars
        const dps = body.dataPoints as Arr;
        for (let d = 0; d < dps.length; d++) {
          const exs = dps[d].exemplars as Arr;
          for (let e = 0; e < exs.length; e++) {
            let n: number;
            if ((n = badLength(exs[e].traceId, 16)) >= 0) idError(`${exemplarAt(i, j, k, d, e)}.traceId`, 16, n);
            if ((n = badLength(exs[e].spanId, 8)) >= 0) idError(`${exemplarAt(i, j, k, d, e)}.spanId`, 8, n);
          }
        }
      }
    }
  }
}

const CHECKS: { [S in Signal]: (req: Obj) => void } = { traces: checkTraces, metrics: checkMetrics, logs: checkLogs };

// ---- codecs ------------------------------------------------------------------------------------

function makeCodec<S extends Signal>(signal: S): SignalCodec<S> {
  const spec = SPECS[signal];
  const reqType = otlpType(`${spec.pkg}.Export${spec.kind}ServiceRequest`);
  const respType = otlpType(`${spec.pkg}.Export${spec.kind}ServiceResponse`);
  const check = CHECKS[signal];
  const fast = FAST[signal];
  const what = `OTLP ${signal} request`;

  function partialMessage(partial: PartialSuccess | undefined): Obj {
    // The spec leaves partial_success unset when everything was accepted.
    if (!partial || (!partial.rejected && !partial.message)) return {};
    return { partialSuccess: { [spec.rejectedField]: partial.rejected, errorMessage: partial.message } };
  }
  function readPartial(resp: Obj): PartialSuccess {
    const ps = resp.partialSuccess as Obj | null | undefined;
    if (!ps) return { rejected: 0, message: '' };
    return { rejected: toNumber(ps[spec.rejectedField]), message: String(ps.errorMessage ?? '') };
  }

  return {
    signal,
    grpcPath: `/${spec.pkg}.${spec.service}/Export`,
    httpPath: spec.httpPath,
    decodeRequest(bytes) {
      if (!(bytes instanceof Uint8Array)) throw new PermanentError(`${what}: expected bytes`);
      let req: Obj;
      try {
        req = fast.decode(bytes);
      } catch (err) {
        throw malformed(reqType, bytes, err, what);
      }
      check(req);
      return req as unknown as SignalData[S];
    },
    encodeRequest(data) {
      try {
        return fast.encode(data as unknown as Msg);
      } catch (err) {
        throw new PermanentError(`cannot encode ${what}: ${errorMessage(err)}`, { cause: err });
      }
    },
    decodeRequestJson(text) {
      const req = decodeJson(reqType, text);
      check(req);
      return req as unknown as SignalData[S];
    },
    encodeRequestJson(data) {
      return encodeJson(reqType, data);
    },
    encodeResponse(partial) {
      return encodeProto(respType, partialMessage(partial), `OTLP ${signal} response`);
    },
    decodeResponse(bytes) {
      return readPartial(decodeProto(respType, bytes, `OTLP ${signal} response`));
    },
    encodeResponseJson(partial) {
      return encodeJson(respType, partialMessage(partial));
    },
    decodeResponseJson(text) {
      return readPartial(decodeJson(respType, text));
    },
  };
}

export const codecs: { traces: SignalCodec<'traces'>; metrics: SignalCodec<'metrics'>; logs: SignalCodec<'logs'> } = {
  traces: makeCodec('traces'),
  metrics: makeCodec('metrics'),
  logs: makeCodec('logs'),
};

// ---- google.rpc.Status -------------------------------------------------------------------------

const statusType = otlpType('google.rpc.Status');
const retryInfoType = otlpType('google.rpc.RetryInfo');
const RETRY_INFO_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/** A google.rpc.Status (gRPC status details / OTLP/HTTP error body), with RetryInfo when given. */
export function encodeStatus(code: number, message: string, retryAfterMs?: number): Uint8Array {
  const status: Obj = { code, message };
  if (retryAfterMs !== undefined && retryAfterMs >= 0) {
    const ms = Math.round(retryAfterMs);
    const retry = retryInfoType.encode({
      retryDelay: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 },
    }).finish();
    status.details = [{ typeUrl: RETRY_INFO_URL, value: retry }];
  }
  return encodeProto(statusType, status, 'google.rpc.Status');
}

export function decodeStatus(bytes: Uint8Array): { code: number; message: string; retryAfterMs?: number } {
  const s = decodeProto(statusType, bytes, 'google.rpc.Status');
  const out: { code: number; message: string; retryAfterMs?: number } = {
    code: Number(s.code ?? 0),
    message: String(s.message ?? ''),
  };
  for (const d of (s.details as Arr | undefined) ?? []) {
    if (d.typeUrl !== RETRY_INFO_URL) continue;
    const ri = decodeProto(retryInfoType, d.value as Uint8Array, 'google.rpc.RetryInfo');
    const delay = ri.retryDelay as Obj | null | undefined;
    if (delay) out.retryAfterMs = toNumber(delay.seconds) * 1000 + Math.round(Number(delay.nanos ?? 0) / 1e6);
  }
  return out;
}

/** A google.rpc.Status as JSON (the OTLP/HTTP error body for application/json). */
export function encodeStatusJson(code: number, message: string): string {
  return encodeJson(statusType, { code, message });
}

/** Reads a JSON google.rpc.Status body (details are ignored); throws PermanentError if malformed. */
export function decodeStatusJson(text: string | Uint8Array): { code: number; message: string } {
  const s = decodeJson(statusType, text);
  return { code: Number(s.code ?? 0), message: String(s.message ?? '') };
}
