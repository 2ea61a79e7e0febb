// The pull exporter: keeps the latest point of every series (deltas added up by the cumulative
// tracker), serves them on GET /metrics in the text format 0.0.4, or OpenMetrics when enabled
// and asked for by Accept, gzip when accepted. A series not updated for metric_expiration
// leaves the page; a point flagged NoRecordedValue removes its series at once (the scraper's own
// staleness handling then ends it). Two metrics that map to one name with different types
// cannot share a family: the later is dropped and counted (family_type_conflict); so is a point
// older than the one shown for its series (older_than_current).
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as zlib from 'node:zlib';
import type { Component, Consumer, Settings, SignalConsumers } from '../../pipeline/component';
import { errorMessage } from '../../pipeline/errors';
import type { MetricsData } from '../../pipeline/pdata';
import {
  CumulativeTracker, OPENMETRICS_CONTENT_TYPE, seriesKey, TEXT_CONTENT_TYPE, translate, writeText,
  type FamilyType, type Point, type TranslateOptions,
} from '../../pipeline/prometheus';
import { HttpEndpoint, type HostPort } from '../../pipeline/telemetry';
import type { PrometheusExporterConfig } from './config';

interface Entry { point: Point; updated: number }

export class PrometheusExporter implements Component {
  readonly consumers: SignalConsumers;
  private readonly server: HttpEndpoint;
  private readonly series = new Map<string, Entry>();
  /** Live series per family name, with the family's type. */
  private readonly families = new Map<string, { type: FamilyType; series: number }>();
  private readonly tracker: CumulativeTracker;
  private readonly options: TranslateOptions;
  private readonly expiration: number;
  private running = false;

  constructor(private readonly settings: Settings, private readonly config: PrometheusExporterConfig, private readonly now: () => number = Date.now) {
    this.expiration = config.metric_expiration;
    this.tracker = new CumulativeTracker(this.expiration, now);
    this.options = {
      namespace: config.namespace,
      addMetricSuffixes: config.add_metric_suffixes,
      resourceToTelemetry: config.resource_to_telemetry_conversion.enabled,
      targetInfo: true,
      extraLabels: Object.entries(config.const_labels).map(([name, value]) => ({ name, value })),
    };
    this.server = new HttpEndpoint(`exporters::${settings.id}`, config.endpoint, (req, res) => this.handle(req, res));
    const metrics: Consumer<MetricsData> = { consume: async (data) => { this.consume(data); } };
    this.consumers = { metrics };
  }

  async start(): Promise<void> {
    await this.server.start();
    this.running = true;
    this.settings.logger.info('prometheus exporter listening', { url: `${this.server.url()}/metrics` });
  }

  async shutdown(): Promise<void> {
    this.running = false;
    await this.server.close();
  }

  /** The bound address (the real port when the endpoint asked for 0). */
  address(): HostPort | undefined {
    return this.server.address();
  }

  /** Series on the page now (after expiry). */
  get size(): number {
    this.expire();
    return this.series.size;
  }

  consume(data: MetricsData): void {
    const drop = (reason: string, points: number): void => this.settings.telemetry.dropped('metrics', points, reason);
    const points = translate(data, this.options, this.tracker, drop, this.now);
    const now = this.now();
    this.expire();
    let kept = 0;
    for (const p of points) {
      const family = this.families.get(p.family.name);
      if (family !== undefined && family.type !== p.family.type) {
        drop('family_type_conflict', 1);
        continue;
      }
      const key = seriesKey(p.family.name, p.labels);
      const current = this.series.get(key);
      if (current && current.point.timestampMs > p.timestampMs) {
        // A late point must not replace a newer value on the page (target_info is ours, not counted).
        if (p.family.type !== 'info') drop('older_than_current', 1);
        continue;
      }
      if (p.stale) this.remove(key);
      else this.put(key, { point: p, updated: now });
      if (p.family.type !== 'info') kept++;
    }
    if (kept > 0) this.settings.telemetry.sent('metrics', kept);
  }

  private put(key: string, entry: Entry): void {
    if (!this.series.has(key)) {
      const f = this.families.get(entry.point.family.name);
      if (f) f.series++;
      else this.families.set(entry.point.family.name, { type: entry.point.family.type, series: 1 });
    }
    this.series.set(key, entry);
  }

  private remove(key: string): void {
    const e = this.series.get(key);
    if (!e) return;
    this.series.delete(key);
    const f = this.families.get(e.point.family.name);
    if (f && --f.series === 0) this.families.delete(e.point.family.name);
  }

  private expire(): void {
    const cutoff = this.now() - this.expiration;
    for (const [k, e] of this.series) if (e.updated < cutoff) this.remove(k);
  }

  /** The page as a scraper gets it. */
  render(openMetrics: boolean): string {
    this.expire();
    const points: Point[] = [];
    for (const e of this.series.values()) points.push(e.point);
    return writeText(points, { openMetrics, timestamps: this.config.send_timestamps });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found: metrics are on /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    try {
      const openMetrics = this.config.enable_open_metrics && /application\/openmetrics-text/.test(req.headers.accept ?? '');
      let body: Buffer = Buffer.from(this.running ? this.render(openMetrics) : '');
      const headers: Record<string, string | number> = { 'content-type': openMetrics ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE };
      if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
        body = zlib.gzipSync(body);
        headers['content-encoding'] = 'gzip';
      }
      headers['content-length'] = body.length;
      res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${this.settings.id}: ${errorMessage(err)}\n`);
    }
  }
}
