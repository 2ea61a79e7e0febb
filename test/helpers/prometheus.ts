// A real Prometheus (Debian's 2.42) for tests: started on a free port with a temporary TSDB
// directory, remote-write receiver and native histograms on, optional scrape targets; stopped
// (or killed and started again on the same port and directory) by the test; queried over its
// HTTP API.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, tempDir, waitFor } from './sonde-process';

export interface PromOptions {
  /** host:port targets scraped every scrapeInterval. */
  scrapeTargets?: string[];
  scrapeInterval?: string;
  /** Extra lines of the scrape job (e.g. `honor_labels: true`). */
  jobExtra?: string;
  /** --enable-feature=native-histograms (default true). */
  nativeHistograms?: boolean;
}

export interface PromSample { metric: Record<string, string>; values: [number, string][] }

export class PrometheusServer {
  readonly dir: string;
  readonly dataDir: string;
  port = 0;
  private child: ChildProcess | undefined;
  private log = '';

  constructor(private readonly opts: PromOptions = {}) {
    this.dir = tempDir('sonde-prom-');
    this.dataDir = path.join(this.dir, 'data');
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get writeUrl(): string {
    return `${this.base}/api/v1/write`;
  }

  output(): string {
    return this.log;
  }

  /** Starts (or starts again, same port and TSDB) and waits until /-/ready answers 200. */
  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const config = path.join(this.dir, 'prometheus.yml');
    const interval = this.opts.scrapeInterval ?? '1s';
    let yaml = `global:\n  scrape_interval: ${interval}\n  evaluation_interval: ${interval}\n`;
    if (this.opts.scrapeTargets?.length) {
      yaml += `scrape_configs:\n  - job_name: sonde\n    scrape_interval: ${interval}\n    static_configs:\n      - targets: [${this.opts.scrapeTargets.map((t) => `'${t}'`).join(', ')}]\n`;
      if (this.opts.jobExtra) yaml += this.opts.jobExtra.split('\n').map((l) => `    ${l}`).join('\n') + '\n';
    }
    fs.writeFileSync(config, yaml);
    this.child = spawn('prometheus', [
      `--config.file=${config}`, `--storage.tsdb.path=${this.dataDir}`, `--web.listen-address=127.0.0.1:${this.port}`,
      '--web.enable-remote-write-receiver', ...(this.opts.nativeHistograms === false ? [] : ['--enable-feature=native-histograms,exemplar-storage']), '--log.level=warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const child = this.child;
    child.stdout!.on('data', (b: Buffer) => { this.log += b.toString(); });
    child.stderr!.on('data', (b: Buffer) => { this.log += b.toString(); });
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${this.log}`);
      try {
        return (await fetch(`${this.base}/-/ready`)).status === 200;
      } catch {
        return false;
      }
    }, 30_000, 'prometheus ready');
  }

  /** SIGKILL (no clean shutdown) or SIGTERM, and wait for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  async cleanup(): Promise<void> {
    await this.stop('SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private async api<T>(pathAndQuery: string): Promise<T> {
    const res = await fetch(`${this.base}${pathAndQuery}`);
    const body = await res.json() as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${pathAndQuery}: ${body.error ?? res.status}`);
    return body.data;
  }

  /** An instant query; `time` in ms (default now). */
  async query(promql: string, timeMs?: number): Promise<{ resultType: string; result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][]; histogram?: [number, NativeHistogramResult] }[] }> {
    const t = timeMs !== undefined ? `&time=${timeMs / 1000}` : '';
    return this.api(`/api/v1/query?query=${encodeURIComponent(promql)}${t}`);
  }

  /** Every raw sample of the series a selector matches, within `window` (e.g. 1h) before timeMs. */
  async samples(selector: string, window = '1h', timeMs?: number): Promise<PromSample[]> {
    const r = await this.query(`${selector}[${window}]`, timeMs);
    return r.result.map((x) => ({ metric: x.metric, values: x.values ?? [] }));
  }

  async series(selector: string): Promise<Record<string, string>[]> {
    return this.api(`/api/v1/series?match[]=${encodeURIComponent(selector)}&start=0`);
  }

  /** Raw native histogram samples: the API's "histograms" of a range query. */
  async histograms(selector: string, window = '1h', timeMs?: number): Promise<{ metric: Record<string, string>; histograms: [number, NativeHistogramResult][] }[]> {
    const r = await this.query(`${selector}[${window}]`, timeMs) as unknown as { result: { metric: Record<string, string>; histograms?: [number, NativeHistogramResult][] }[] };
    return r.result.map((x) => ({ metric: x.metric, histograms: x.histograms ?? [] }));
  }

  /** Exemplars of the series a selector matches, between start and end (ms). */
  async exemplars(selector: string, startMs: number, endMs: number): Promise<{ seriesLabels: Record<string, string>; exemplars: { labels: Record<string, string>; value: string; timestamp: number }[] }[]> {
    return this.api(`/api/v1/query_exemplars?query=${encodeURIComponent(selector)}&start=${startMs / 1000}&end=${endMs / 1000}`);
  }

  /** Scrape targets as Prometheus sees them. */
  async targets(): Promise<{ health: string; lastError: string; scrapeUrl: string }[]> {
    const d = await this.api<{ activeTargets: { health: string; lastError: string; scrapeUrl: string }[] }>('/api/v1/targets');
    return d.activeTargets;
  }
}

export interface NativeHistogramResult { count: string; sum: string; buckets?: [number, string, string, string][] }

/** A metric point as test/helpers/otel-sender.ts writes what the OTel SDK exported. */
export interface SdkPoint { resource: Record<string, unknown>; scope: string; name: string; type: string; attributes: Record<string, string>; value: unknown; temporality: number }

/** The names the compatibility spec gives the sender's instruments. */
export const SDK_SERIES_NAMES: Record<string, string> = {
  'http.server.requests': 'http_server_requests_total', 'http.server.active_requests': 'http_server_active_requests',
  'http.server.request.duration': 'http_server_request_duration_seconds', 'latency.exp': 'latency_exp_milliseconds',
  'room.temperature': 'room_temperature_celsius', 'bytes.sent': 'bytes_sent_total', 'queue.depth': 'queue_depth',
};

/** The PromQL selector of an SDK point's series: its name (+ suffix), its attributes, job and scope labels. */
export function sdkSeriesSelector(p: SdkPoint, suffix = '', extra = ''): string {
  const [scopeName, scopeVersion] = p.scope.split('@');
  const labels = Object.entries(p.attributes).map(([k, v]) => `${k.replace(/\./g, '_')}="${v}"`);
  labels.push(`job="${String(p.resource['service.name'])}"`, `otel_scope_name="${scopeName}"`, `otel_scope_version="${scopeVersion}"`);
  if (extra) labels.push(extra);
  return `${SDK_SERIES_NAMES[p.name]}${suffix}{${labels.join(',')}}`;
}
