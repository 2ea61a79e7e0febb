// Prometheus remote write 1.0: each batch is translated once (delta -> cumulative happens here,
// so it must not run again on a retry), split into WriteRequests of at most
// max_batch_size_bytes, snappy-compressed (block format) and POSTed in order. A retry resumes at
// the first request not yet accepted. 5xx, 429 and network errors are retryable (Retry-After
// honoured); any other 4xx is permanent: Prometheus answers 400 for out-of-order and duplicate
// samples, which no retry can fix (DESIGN.md). Exponential histograms go as native histograms;
// a Prometheus without them (500 "native histograms are disabled", which would otherwise block
// the queue with retries) gets them as classic le buckets from then on, after one warning.
// The POST itself is the shared HttpPoster's (pipeline/otlp/http-transport.ts).
import * as fs from 'node:fs';
import { compressSync } from 'snappy';
import * as path from 'node:path';
import type { Component, Host, Settings, SignalConsumers } from '../../pipeline/component';
import { ComponentError, errorMessage, RetryableError } from '../../pipeline/errors';
import { ExporterHelper, type DiskBudget, type QueueLocation, type StorageExtension } from '../../pipeline/exporterhelper';
import { HttpPoster, httpFailure, isSuccess, textDetail, type Answer } from '../../pipeline/otlp/http-transport';
import type { MetricsData, Signal } from '../../pipeline/pdata';
import type { Point } from '../../pipeline/prometheus';
import { CumulativeTracker, encodeWriteRequest, splitWriteRequests, toTimeSeries, translate, type TranslateOptions } from '../../pipeline/prometheus';
import { effectiveQueue, WAL_STORAGE_ID, type RemoteWriteExporterConfig } from './config';

/** How much of an error body goes into the message. */
const DETAIL_BYTES = 512;
/** The body is snappy already (remote write 1.0 allows nothing else), so no gzip on top. */
const FIXED_HEADERS = { 'Content-Encoding': 'snappy', 'X-Prometheus-Remote-Write-Version': '0.1.0' };
/** Delta series not updated for this long are forgotten (their next delta starts them again). */
const DELTA_EXPIRY_MS = 15 * 60_000;
const TIMEOUT_GUARD_MS = 1000;

/** A translated batch; `native` says how its bodies encode exponential histograms. */
interface Prepared { points: Point[]; bodies: Buffer[]; next: number; native: boolean }

export class RemoteWriteSender {
  private readonly prepared = new WeakMap<MetricsData, Prepared>();
  private readonly tracker = new CumulativeTracker(DELTA_EXPIRY_MS);
  private readonly options: TranslateOptions;
  private nativeHistograms = true;
  private url: URL | undefined;
  private readonly poster: HttpPoster;

  constructor(private readonly settings: Settings, private readonly config: RemoteWriteExporterConfig) {
    this.poster = new HttpPoster(settings, { ...config, compression: 'none' }, { fixedHeaders: FIXED_HEADERS });
    this.options = {
      namespace: config.namespace,
      addMetricSuffixes: config.add_metric_suffixes,
      resourceToTelemetry: config.resource_to_telemetry_conversion.enabled,
      targetInfo: config.target_info.enabled,
      extraLabels: Object.entries(config.external_labels).map(([name, value]) => ({ name, value })),
    };
  }

  async start(): Promise<void> {
    this.poster.checkHeaders();
    this.url = new URL(this.config.endpoint);
    await this.poster.start([this.url]);
  }

  /** Translation (and delta accumulation) once per batch, whatever the number of attempts. */
  prepare(data: MetricsData): Prepared {
    let p = this.prepared.get(data);
    if (p) return p;
    const drop = (reason: string, points: number): void => this.settings.telemetry.dropped('metrics', points, reason);
    p = { points: translate(data, this.options, this.tracker, drop), bodies: [], next: 0, native: this.nativeHistograms };
    this.encode(p);
    this.prepared.set(data, p);
    return p;
  }

  private encode(p: Prepared): void {
    const { timeseries, metadata } = toTimeSeries(p.points, { nativeHistograms: this.nativeHistograms, metadata: this.config.send_metadata });
    p.bodies = splitWriteRequests(timeseries, metadata, this.config.max_batch_size_bytes)
      .map((req) => compressSync(encodeWriteRequest(req), { copyOutputData: true }));
    // Requests already accepted are sent again in the new form: Prometheus ignores a sample it
    // already has with the same timestamp and value.
    if (p.native !== this.nativeHistograms) p.next = 0;
    p.native = this.nativeHistograms;
  }

  async send(data: MetricsData): Promise<void> {
    const p = this.prepare(data);
    for (;;) {
      if (p.native !== this.nativeHistograms) this.encode(p);
      try {
        while (p.next < p.bodies.length) {
          await this.post(p.bodies[p.next]!);
          p.next++;
        }
        return;
      } catch (err) {
        if (!this.nativeHistograms || !/native histograms are disabled/.test(errorMessage(err))) throw err;
        this.nativeHistograms = false;
        this.settings.logger.warn('the endpoint refuses native histograms: exponential histograms are sent as classic histograms (le buckets) from now on; start Prometheus with --enable-feature=native-histograms to keep them native', { endpoint: this.config.endpoint });
      }
    }
  }

  private async post(body: Buffer): Promise<void> {
    const url = this.url;
    if (!url) throw new RetryableError('not started');
    const answer = await this.poster.post(url, 'application/x-protobuf', body);
    if (!isSuccess(answer)) throw httpFailure(url, answer, textDetail(answer, DETAIL_BYTES), anyServerError);
  }

  async close(): Promise<void> {
    this.poster.close();
  }
}

/** Remote write retries every 5xx, not only OTLP/HTTP's 502, 503, 504 (httpFailure retries 429 itself). */
function anyServerError(answer: Answer): boolean {
  return answer.status >= 500;
}

/**
 * `wal`: the shared persistent queue in wal.directory, fsync'ed, with no disk bound of its own:
 * the exporter answers the storage lookup itself, so no file_storage extension is needed.
 */
class WalStorage implements StorageExtension {
  private readonly budget: DiskBudget = { limitBytes: 0, tryReserve: () => true, claim: () => undefined, release: () => undefined };
  constructor(private readonly id: string, private readonly directory: string) {}
  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}
  queueLocation(_kind: string, _owner: string, signal: Signal): QueueLocation {
    const directory = path.join(this.directory, signal);
    try {
      fs.mkdirSync(directory, { recursive: true });
    } catch (err) {
      throw new ComponentError(this.id, `wal.directory: cannot create ${directory}: ${errorMessage(err)}`, { cause: err });
    }
    return { directory, fsync: true, budget: this.budget };
  }
}

function withWal(host: Host, wal: WalStorage): Host {
  return { ...host, getExtension: (id) => (id === WAL_STORAGE_ID ? wal : host.getExtension(id)) };
}

export function remoteWriteExporter(settings: Settings, config: RemoteWriteExporterConfig, signals: readonly Signal[]): Component & { consumers: SignalConsumers } {
  const sender = new RemoteWriteSender(settings, config);
  const helper = new ExporterHelper(settings, signals, async (_signal, data) => { await sender.send(data as MetricsData); }, {
    queue: effectiveQueue(config),
    retry: config.retry_on_failure,
    timeoutMs: config.timeout > 0 ? config.timeout + TIMEOUT_GUARD_MS : 0,
    start: () => sender.start(),
    close: () => sender.close(),
  });
  if (!config.wal) return helper;
  const wal = new WalStorage(settings.id, config.wal.directory);
  return {
    consumers: helper.consumers,
    start: (host) => helper.start(withWal(host, wal)),
    shutdown: () => helper.shutdown(),
  };
}
