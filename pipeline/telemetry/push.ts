// OTLP push of Sonde's own metrics. A reader of our own rather than the SDK's periodic reader:
// the SDK's starts its timer when the MeterProvider is built, while Sonde pushes only between
// start() and shutdown(), and loads the exporter (gRPC or HTTP) only when push is configured.
import { AggregationTemporality, MetricReader } from '@opentelemetry/sdk-metrics';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Logger } from '../logger';
import { errorMessage } from '../errors';

export interface OtlpPushConfig {
  endpoint: string;
  protocol: 'grpc' | 'http/protobuf';
  intervalMs: number;
  headers: Record<string, string>;
}

/** The URL the HTTP exporter posts to: the endpoint as given, or with /v1/metrics if it has no path. */
export function httpMetricsUrl(endpoint: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`;
  const url = new URL(withScheme);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/v1/metrics';
  return url.toString();
}

async function createExporter(config: OtlpPushConfig, timeoutMillis: number): Promise<PushMetricExporter> {
  if (config.protocol === 'grpc') {
    const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-grpc');
    const url = /^[a-z]+:\/\//i.test(config.endpoint) ? config.endpoint : `http://${config.endpoint}`;
    const { Metadata } = await import('@grpc/grpc-js');
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(config.headers)) metadata.set(k, v);
    return new OTLPMetricExporter({ url, timeoutMillis, metadata, temporalityPreference: AggregationTemporality.CUMULATIVE });
  }
  const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto');
  return new OTLPMetricExporter({
    url: httpMetricsUrl(config.endpoint),
    headers: config.headers,
    timeoutMillis,
    temporalityPreference: AggregationTemporality.CUMULATIVE,
  });
}

export class OtlpPushReader extends MetricReader {
  private exporter: PushMetricExporter | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly config: OtlpPushConfig, private readonly logger: Logger) {
    // The Collector pushes its own metrics as cumulative sums.
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }

  /** Loads the exporter and starts the timer; the first push is one interval after start. */
  async begin(): Promise<void> {
    const timeout = Math.min(this.config.intervalMs, 30_000);
    this.exporter = await createExporter(this.config, timeout);
    this.timer = setInterval(() => { void this.push(); }, this.config.intervalMs);
    this.timer.unref();
  }

  /** One collection and export; never rejects (a failed push is logged, the next one retries). */
  push(): Promise<void> {
    this.inFlight = this.inFlight.then(() => this.pushOnce());
    return this.inFlight;
  }

  private async pushOnce(): Promise<void> {
    const exporter = this.exporter;
    if (!exporter) return;
    try {
      const { resourceMetrics } = await this.collect();
      await exportOnce(exporter, resourceMetrics);
    } catch (err) {
      this.logger.warn('self-telemetry OTLP push failed', { endpoint: this.config.endpoint, error: errorMessage(err) });
    }
  }

  protected override async onForceFlush(): Promise<void> {
    await this.push();
  }

  protected override async onShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.exporter) return;
    await this.push(); // the last counts before exit
    await this.exporter.shutdown();
    this.exporter = undefined;
  }
}

function exportOnce(exporter: PushMetricExporter, metrics: ResourceMetrics): Promise<void> {
  return new Promise((resolve, reject) => {
    exporter.export(metrics, (result) => {
      if (result.code === 0) resolve();
      else reject(result.error ?? new Error('export failed'));
    });
  });
}
