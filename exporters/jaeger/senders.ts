// The three ways the jaeger exporter sends a traces batch, each a Transport for the shared
// exporter helper (queue, retry, timeout, self-metrics):
// - thrift_http: one POST of a Thrift Batch per distinct resource (Jaeger's collector takes one
//   Process per Batch, and one Batch per request), all of a batch's POSTs at once;
// - otlp_http / otlp_grpc: one OTLP request per batch, built and classified exactly as the
//   otlphttp / otlp exporters do, so a server sees the same request from either.
import type * as http from 'node:http';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { createSecureContext } from 'node:tls';
import type { Settings } from '../../pipeline/component';
import { errorMessage, PermanentError, RetryableError } from '../../pipeline/errors';
import { codecs, decodeStatus, decodeStatusJson } from '../../pipeline/otlp/codec';
import { otlpGrpcRawServices, type ExportResponse } from '../../pipeline/otlp/grpc';
import type { PartialSuccess, Transport } from '../../pipeline/otlp/transport-exporter';
import { loadTls } from '../../pipeline/otlp/transport-tls';
import type { ResourceSpans, Signal, SignalData, TracesData } from '../../pipeline/pdata';
import { compressionOf, grpcTarget, postUrl, type JaegerExporterConfig } from './config';
import { failure, HttpPoster, textDetail, type Answer } from './http';
import { resourceKey, spanCount, ThriftWriter, writeBatch } from './thrift';

const gzip = promisify(zlib.gzip);
const SUBMIT_FAILED = 'Cannot submit Jaeger batch';

export function senderFor(settings: Settings, config: JaegerExporterConfig): Transport {
  switch (config.protocol) {
    case 'thrift_http': return new ThriftHttpSender(settings, config);
    case 'otlp_http': return new OtlpHttpSender(settings, config);
    case 'otlp_grpc': return new OtlpGrpcSender(settings, config);
  }
}

function urlOf(settings: Settings, config: JaegerExporterConfig): URL {
  const u = postUrl(config);
  if (typeof u === 'string') throw new PermanentError(`${settings.id}: endpoint: ${u}`);
  return u;
}

function userAgent(settings: Settings): string {
  return `${settings.buildInfo.command}/${settings.buildInfo.version}`;
}

// ---- thrift_http -----------------------------------------------------------------------------

/** What a retried batch has already been through: Batches delivered or refused for good. */
interface Progress { done: Set<number>; rejected: number; message: string }

class ThriftHttpSender implements Transport {
  private readonly url: URL;
  private readonly poster: HttpPoster;
  private readonly writer = new ThriftWriter();
  /**
   * A retry of a batch (the helper passes the same object again) skips the Batches already
   * delivered, so a failure of one Batch does not send the others twice.
   */
  private readonly progress = new WeakMap<TracesData, Progress>();

  constructor(private readonly settings: Settings, private readonly config: JaegerExporterConfig) {
    this.url = urlOf(settings, config);
    this.poster = new HttpPoster(settings, this.url, config.tls, config.timeout);
  }

  async start(): Promise<void> {
    HttpPoster.checkHeaders(this.settings.id, this.config.headers);
    await this.poster.start();
  }

  async send<S extends Signal>(_signal: S, data: SignalData[S]): Promise<PartialSuccess> {
    const traces = data as TracesData;
    const batches = jaegerBatches(traces);
    let p = this.progress.get(traces);
    if (!p) {
      p = { done: new Set(), rejected: 0, message: '' };
      this.progress.set(traces, p);
    }
    // All Batches at once: the whole push then takes about one request's time, which keeps it
    // inside the helper's per-attempt timeout however many resources a batch holds.
    let total = 0;
    const posts: Promise<void>[] = [];
    for (let i = 0; i < batches.length; i++) {
      const { groups, spans } = batches[i]!;
      total += spans;
      if (p.done.has(i)) continue;
      this.writer.reset();
      const lostLinkAttributes = writeBatch(this.writer, groups);
      const progress = p;
      posts.push(this.post(this.writer.take()).then(() => {
        progress.done.add(i);
        // Counted once the spans are delivered without them (not per attempt).
        if (lostLinkAttributes > 0) this.settings.telemetry.count('jaeger_link_attributes_dropped', lostLinkAttributes);
      }, (err: unknown) => {
        if (!(err instanceof PermanentError)) throw err; // this Batch is sent again on retry
        // Refused for good; the other Batches may still be accepted.
        progress.rejected += spans;
        progress.message = errorMessage(err);
        progress.done.add(i);
      }));
    }
    const retryable = (await Promise.allSettled(posts)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (retryable) throw retryable.reason;
    this.progress.delete(traces);
    if (p.rejected > 0 && p.rejected === total) throw new PermanentError(p.message);
    return { rejected: p.rejected, message: p.message };
  }

  private async post(batch: Buffer): Promise<void> {
    let body = batch;
    const headers: http.OutgoingHttpHeaders = {
      ...this.config.headers,
      'Content-Type': 'application/x-thrift',
      'User-Agent': userAgent(this.settings),
    };
    if (compressionOf(this.config) === 'gzip') {
      body = await gzip(body);
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Content-Length'] = body.length;
    const answer = await this.poster.post(headers, body);
    if (answer.status >= 200 && answer.status < 300) return;
    const detail = textDetail(answer);
    // Jaeger's collector (v1 handler and v2's jaeger receiver alike) answers 500 "Cannot submit
    // Jaeger batch: ..." when its own pipeline refused a well-formed batch (queue full, "server
    // busy", memory limiter): back-pressure, not bad data, which it answers with 400.
    if (answer.status === 500 && detail.startsWith(SUBMIT_FAILED)) {
      throw new RetryableError(`request to ${this.url.href} responded with HTTP 500: ${detail}`);
    }
    throw failure(this.url, answer, detail);
  }

  async close(): Promise<void> {
    this.poster.close();
  }
}

/** The Batches of a request: resource groups with equal resources together, in first-seen order; groups without spans left out. */
export function jaegerBatches(traces: TracesData): { groups: ResourceSpans[]; spans: number }[] {
  const byKey = new Map<string, { groups: ResourceSpans[]; spans: number }>();
  for (const rs of traces.resourceSpans ?? []) {
    const spans = spanCount(rs);
    if (spans === 0) continue;
    const key = resourceKey(rs);
    const b = byKey.get(key);
    if (b) {
      b.groups.push(rs);
      b.spans += spans;
    } else {
      byKey.set(key, { groups: [rs], spans });
    }
  }
  return [...byKey.values()];
}

// ---- otlp_http -------------------------------------------------------------------------------

class OtlpHttpSender implements Transport {
  private readonly url: URL;
  private readonly poster: HttpPoster;

  constructor(private readonly settings: Settings, private readonly config: JaegerExporterConfig) {
    this.url = urlOf(settings, config);
    this.poster = new HttpPoster(settings, this.url, config.tls, config.timeout);
  }

  async start(): Promise<void> {
    HttpPoster.checkHeaders(this.settings.id, this.config.headers);
    await this.poster.start();
  }

  async send<S extends Signal>(_signal: S, data: SignalData[S]): Promise<PartialSuccess> {
    const encoded = codecs.traces.encodeRequest(data as TracesData);
    let body = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    // The same headers, in the same order, as the otlphttp exporter (proto encoding).
    const headers: http.OutgoingHttpHeaders = {
      ...this.config.headers,
      'Content-Type': 'application/x-protobuf',
      'User-Agent': userAgent(this.settings),
    };
    if (compressionOf(this.config) === 'gzip') {
      body = await gzip(body);
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Content-Length'] = body.length;
    const answer = await this.poster.post(headers, body);
    if (answer.status >= 200 && answer.status < 300) return partialSuccess(answer);
    throw failure(this.url, answer, statusMessage(answer));
  }

  async close(): Promise<void> {
    this.poster.close();
  }
}

function contentType(answer: Answer): string {
  return (answer.headers['content-type'] ?? '').toLowerCase();
}

function partialSuccess(answer: Answer): PartialSuccess {
  if (answer.body.length === 0) return { rejected: 0, message: '' };
  try {
    return contentType(answer).startsWith('application/json') ? codecs.traces.decodeResponseJson(answer.body) : codecs.traces.decodeResponse(answer.body);
  } catch {
    // The data was accepted; an unreadable response body does not change that.
    return { rejected: 0, message: '' };
  }
}

/** The google.rpc.Status message of an OTLP error body, or the start of a plain-text one. */
function statusMessage(answer: Answer): string {
  if (answer.body.length === 0) return '';
  const type = contentType(answer);
  try {
    if (type.startsWith('application/x-protobuf') || type.startsWith('application/protobuf')) return decodeStatus(answer.body).message;
    if (type.startsWith('application/json')) return decodeStatusJson(answer.body).message;
  } catch (err) {
    return `unreadable status body (${errorMessage(err)})`;
  }
  return textDetail(answer);
}

// ---- otlp_grpc -------------------------------------------------------------------------------

/** Retryable per the OTLP spec; RESOURCE_EXHAUSTED only when the server sent RetryInfo. */
const GRPC_RETRYABLE = new Set([
  grpc.status.CANCELLED, grpc.status.DEADLINE_EXCEEDED, grpc.status.ABORTED,
  grpc.status.OUT_OF_RANGE, grpc.status.UNAVAILABLE, grpc.status.DATA_LOSS,
]);
const GZIP = 2; // grpc-js CompressionAlgorithms.gzip
const MAX_RECONNECT_BACKOFF_MS = 5000;

class OtlpGrpcSender implements Transport {
  private client: grpc.Client | undefined;
  private readonly metadata = new grpc.Metadata();

  constructor(private readonly settings: Settings, private readonly config: JaegerExporterConfig) {}

  async start(): Promise<void> {
    const t = grpcTarget(this.config);
    if (typeof t === 'string') throw new PermanentError(`${this.settings.id}: endpoint: ${t}`);
    for (const [k, v] of Object.entries(this.config.headers)) {
      try {
        this.metadata.add(k.toLowerCase(), v);
      } catch (err) {
        throw new PermanentError(`${this.settings.id}: headers: ${errorMessage(err)}`);
      }
    }
    // The otlp exporter's channel options, so both send the same calls.
    const options: grpc.ChannelOptions = {
      'grpc.primary_user_agent': userAgent(this.settings),
      'grpc.max_send_message_length': -1,
      'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MS,
    };
    if (compressionOf(this.config) === 'gzip') options['grpc.default_compression_algorithm'] = GZIP;
    const name = this.config.tls.server_name_override;
    if (t.secure && name) {
      options['grpc.ssl_target_name_override'] = name;
      options['grpc.default_authority'] = name;
    }
    this.client = new grpc.Client(t.address, t.secure ? await this.credentials() : grpc.credentials.createInsecure(), options);
  }

  private async credentials(): Promise<grpc.ChannelCredentials> {
    const tls = await loadTls(this.config.tls);
    const context = createSecureContext({
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
      minVersion: tls.minVersion,
      ...(tls.maxVersion ? { maxVersion: tls.maxVersion } : {}),
    });
    const skip = this.config.tls.insecure_skip_verify;
    return grpc.credentials.createFromSecureContext(context, skip ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {});
  }

  send<S extends Signal>(_signal: S, data: SignalData[S]): Promise<PartialSuccess> {
    const client = this.client;
    if (!client) return Promise.reject(new RetryableError('not started'));
    const request = codecs.traces.encodeRequest(data as TracesData);
    const method = otlpGrpcRawServices.traces.Export as grpc.MethodDefinition<Uint8Array, ExportResponse | undefined>;
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, this.metadata.clone(),
        { deadline: Date.now() + this.config.timeout },
        (err, response) => (err ? reject(classify(err)) : resolve(response ?? { rejected: 0, message: '' })));
    });
  }

  async close(): Promise<void> {
    this.client?.close();
    this.client = undefined;
  }
}

function classify(err: grpc.ServiceError): Error {
  const message = `rpc error: code = ${grpc.status[err.code] ?? err.code} desc = ${err.details}`;
  const retryAfterMs = retryInfo(err);
  if (GRPC_RETRYABLE.has(err.code) || (err.code === grpc.status.RESOURCE_EXHAUSTED && retryAfterMs !== undefined)) {
    return new RetryableError(message, { cause: err, retryAfterMs });
  }
  return new PermanentError(message, { cause: err });
}

function retryInfo(err: grpc.ServiceError): number | undefined {
  const details = err.metadata?.get('grpc-status-details-bin')[0];
  if (!Buffer.isBuffer(details)) return undefined;
  try {
    return decodeStatus(details).retryAfterMs;
  } catch {
    return undefined;
  }
}
