// The three ways the jaeger exporter sends a traces batch, each a Transport for the shared
// exporter helper (queue, retry, timeout, self-metrics):
// - thrift_http: one POST of a Thrift Batch per distinct resource (Jaeger's collector takes one
//   Process per Batch, and one Batch per request), all of a batch's POSTs at once;
// - otlp_http / otlp_grpc: the otlphttp / otlp exporters' own transports, so a server sees the
//   same request from either.
import type { Settings } from '../../pipeline/component';
import { errorMessage, PermanentError } from '../../pipeline/errors';
import { GrpcTransport } from '../../pipeline/otlp/grpc-transport';
import { HttpPoster, httpFailure, isSuccess, OtlpHttpTransport, textDetail, type Answer, type HttpClientConfig } from '../../pipeline/otlp/http-transport';
import type { PartialSuccess, Transport } from '../../pipeline/otlp/transport-exporter';
import type { ResourceSpans, Signal, SignalData, TracesData } from '../../pipeline/pdata';
import { compressionOf, endpointOf, postUrl, type JaegerExporterConfig } from './config';
import { resourceKey, spanCount, ThriftWriter, writeBatch } from './thrift';

const SUBMIT_FAILED = 'Cannot submit Jaeger batch';

/**
 * Jaeger's collector (v1 handler and v2's jaeger receiver alike) answers 500 "Cannot submit
 * Jaeger batch: ..." when its own pipeline refused a well-formed batch (queue full, "server
 * busy", memory limiter): back-pressure, not bad data, which it answers with 400.
 */
function jaegerBusy(answer: Answer, detail: string): boolean {
  return answer.status === 500 && detail.startsWith(SUBMIT_FAILED);
}

export function senderFor(settings: Settings, config: JaegerExporterConfig): Transport {
  const client: HttpClientConfig = { headers: config.headers, tls: config.tls, timeout: config.timeout, compression: compressionOf(config) };
  switch (config.protocol) {
    case 'thrift_http': return new ThriftHttpSender(settings, urlOf(settings, config), client);
    case 'otlp_http': return new OtlpHttpTransport(settings, { ...client, encoding: 'proto' }, { traces: urlOf(settings, config).href });
    case 'otlp_grpc': return new GrpcTransport(settings, { ...client, endpoint: endpointOf(config) });
  }
}

function urlOf(settings: Settings, config: JaegerExporterConfig): URL {
  const u = postUrl(config);
  if (typeof u === 'string') throw new PermanentError(`${settings.id}: endpoint: ${u}`);
  return u;
}

// ---- thrift_http -----------------------------------------------------------------------------

/** What a retried batch has already been through: Batches delivered or refused for good. */
interface Progress { done: Set<number>; rejected: number; message: string }

class ThriftHttpSender implements Transport {
  private readonly poster: HttpPoster;
  private readonly writer = new ThriftWriter();
  /**
   * A retry of a batch (the helper passes the same object again) skips the Batches already
   * delivered, so a failure of one Batch does not send the others twice.
   */
  private readonly progress = new WeakMap<TracesData, Progress>();

  constructor(private readonly settings: Settings, private readonly url: URL, client: HttpClientConfig) {
    this.poster = new HttpPoster(settings, client);
  }

  async start(): Promise<void> {
    this.poster.checkHeaders();
    await this.poster.start([this.url]);
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
    const answer = await this.poster.post(this.url, 'application/x-thrift', batch);
    if (isSuccess(answer)) return;
    // Jaeger's collector answers errors as plain text.
    throw httpFailure(this.url, answer, textDetail(answer), jaegerBusy);
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
