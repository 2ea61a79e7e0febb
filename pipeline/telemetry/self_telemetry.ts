// Sonde's own metrics, as the Collector exposes its own: @opentelemetry/api instruments on the
// OpenTelemetry JS SDK, pulled by Prometheus (default 127.0.0.1:8888/metrics) and optionally
// pushed over OTLP. Metric names and levels: see names.ts.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Attributes, Counter, Histogram, Meter, ObservableGauge } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import type { ComponentStats, ComponentTelemetry, Kind } from '../component';
import type { TelemetryConfig } from '../config/types';
import { ComponentError, errorMessage } from '../errors';
import type { Logger } from '../logger';
import { ComponentMeter } from './component_meter';
import type { InstrumentSource } from './component_meter';
import { DropSummary, DROP_SUMMARY_INTERVAL_MS } from './drop_summary';
import { HttpEndpoint } from './endpoint';
import type { HostPort } from './endpoint';
import { atLeast } from './names';
import { registerProcessMetrics } from './process';
import { OtlpPushReader } from './push';
import { StatsTable } from './stats';

const OWNER = 'service::telemetry::metrics';
const METRICS_PATH = '/metrics';
// Items per batch: from single items up to the largest batches eBPF receivers hand over.
const BATCH_BUCKETS = [1, 8, 64, 256, 1024, 4096, 16384, 65536];

export interface BuildInfo { command: string; version: string }

/** Instruments shared by every component, created once per name. */
class Instruments implements InstrumentSource {
  private readonly counters = new Map<string, Counter>();
  private readonly histograms = new Map<string, Histogram>();
  private readonly gauges = new Map<string, ObservableGauge>();

  constructor(private readonly meter: Meter, private readonly logger: Logger) {}

  counter(name: string, description: string): Counter {
    let c = this.counters.get(name);
    if (!c) {
      c = this.meter.createCounter(name, { description });
      this.counters.set(name, c);
    }
    return c;
  }

  histogram(name: string, description: string): Histogram {
    let h = this.histograms.get(name);
    if (!h) {
      h = this.meter.createHistogram(name, { description, unit: '{item}', advice: { explicitBucketBoundaries: BATCH_BUCKETS } });
      this.histograms.set(name, h);
    }
    return h;
  }

  gauge(name: string, description: string, attributes: Attributes, read: () => number): void {
    let g = this.gauges.get(name);
    if (!g) {
      g = this.meter.createObservableGauge(name, { description });
      this.gauges.set(name, g);
    }
    let warned = false;
    g.addCallback((result) => {
      try {
        result.observe(read(), attributes);
      } catch (err) {
        // One broken reader must not break the scrape; say so once.
        if (!warned) this.logger.warn('gauge read failed', { metric: name, error: errorMessage(err) });
        warned = true;
      }
    });
  }
}

interface Sdk {
  provider: MeterProvider;
  instruments: Instruments;
  prometheus: PrometheusExporter | undefined;
  push: OtlpPushReader | undefined;
}

export class SelfTelemetry {
  private readonly stats = new StatsTable();
  private readonly sdk: Sdk | undefined;
  private server: HttpEndpoint | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly drops: DropSummary;
  private dropTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: TelemetryConfig,
    private readonly logger: Logger,
    private readonly buildInfo: BuildInfo,
  ) {
    // Level none: no SDK at all, so counting costs only the in-memory totals.
    this.sdk = config.metrics.level === 'none' ? undefined : this.createSdk();
    this.drops = new DropSummary(() => this.stats.snapshot(), logger);
  }

  /** Cheap: the component's counters are resolved on first use. */
  forComponent(id: string, kind: Kind): ComponentTelemetry {
    return new ComponentMeter(id, kind, this.stats.entry(id, kind), this.config.metrics.level, this.sdk?.instruments);
  }

  /** Totals per component so far (kept at every level, for zpages). */
  snapshot(): ComponentStats[] {
    return this.stats.snapshot();
  }

  /** Where the Prometheus endpoint listens once started (the real port when 0 was asked). */
  prometheusAddress(): HostPort | undefined {
    return this.server?.address();
  }

  /** Opens the Prometheus endpoint and starts the OTLP push, as configured. */
  start(): Promise<void> {
    if (this.stopping) return Promise.reject(new ComponentError(OWNER, 'start after shutdown'));
    this.starting ??= this.startOnce();
    return this.starting;
  }

  /** Stops pushing (after a last push), closes the endpoint. Safe twice and without start. */
  shutdown(): Promise<void> {
    this.stopping ??= this.shutdownOnce();
    return this.stopping;
  }

  private createSdk(): Sdk {
    const { metrics } = this.config;
    const prometheus = metrics.prometheus !== ''
      ? new PrometheusExporter({
          preventServerStart: true, // we own the server: port 0, clear bind errors, clean close
          withResourceConstantLabels: /^service\.(name|version|instance\.id)$/,
        })
      : undefined;
    const push = metrics.otlp ? new OtlpPushReader(metrics.otlp, this.logger) : undefined;
    const readers: IMetricReader[] = [];
    if (prometheus) readers.push(prometheus);
    if (push) readers.push(push);
    const provider = new MeterProvider({ resource: this.resource(), readers });
    const meter = provider.getMeter('sonde', this.buildInfo.version);
    if (atLeast(metrics.level, 'normal')) registerProcessMetrics(meter);
    return { provider, instruments: new Instruments(meter, this.logger), prometheus, push };
  }

  // The Collector's resource: service.name/version/instance.id, plus the user's attributes.
  private resource(): ReturnType<typeof resourceFromAttributes> {
    return resourceFromAttributes({
      'service.name': this.buildInfo.command,
      'service.version': this.buildInfo.version,
      'service.instance.id': randomUUID(),
      ...this.config.resource,
    });
  }

  private async startOnce(): Promise<void> {
    this.dropTimer = setInterval(() => this.drops.report(), DROP_SUMMARY_INTERVAL_MS).unref();
    if (!this.sdk) return;
    if (this.sdk.prometheus) await this.serve(this.sdk.prometheus);
    if (this.sdk.push) {
      try {
        await this.sdk.push.begin();
      } catch (err) {
        throw new ComponentError(OWNER, `otlp push to ${this.config.metrics.otlp?.endpoint}: ${errorMessage(err)}`, { cause: err });
      }
    }
  }

  private async serve(exporter: PrometheusExporter): Promise<void> {
    const server = new HttpEndpoint(OWNER, this.config.metrics.prometheus, (req, res) => this.handle(exporter, req, res));
    await server.start();
    this.server = server;
    this.logger.info('self-telemetry metrics endpoint', { url: `${server.url()}${METRICS_PATH}`, level: this.config.metrics.level });
  }

  private handle(exporter: PrometheusExporter, req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === METRICS_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      exporter.getMetricsRequestHandler(req, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found; metrics are at ${METRICS_PATH}\n`);
  }

  private async shutdownOnce(): Promise<void> {
    await this.starting?.catch(() => undefined); // a start still binding finishes first
    clearInterval(this.dropTimer);
    this.drops.report(); // what the last interval lost, said once more before exit
    await this.server?.close();
    if (this.sdk) {
      try {
        await this.sdk.provider.shutdown(); // the push reader sends its last counts here
      } catch (err) {
        this.logger.warn('self-telemetry shutdown', { error: errorMessage(err) });
      }
    }
  }
}
