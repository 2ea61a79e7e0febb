// The Collector's v1 health check: 503 "Server not available" until the pipelines are up (and
// again once they go down), 200 "Server available" with upSince/uptime while they run.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Component, Host, PipelineWatcher, Settings } from '../../pipeline/component';
import { HttpEndpoint } from '../../pipeline/telemetry';
import type { HostPort } from '../../pipeline/telemetry';
import type { HealthCheckConfig } from './config';

// What the Collector answers before it has ever been ready: Go's zero time and no uptime.
const ZERO_TIME = '0001-01-01T00:00:00Z';

export class HealthCheck implements Component, PipelineWatcher {
  private readonly server: HttpEndpoint;
  private readySince: Date | undefined;

  constructor(private readonly settings: Settings, private readonly config: HealthCheckConfig) {
    this.server = new HttpEndpoint(`extensions::${settings.id}`, config.endpoint, (req, res) => this.handle(req, res));
  }

  async start(_host: Host): Promise<void> {
    await this.server.start();
    this.settings.logger.info('health check listening', { url: `${this.server.url()}${this.config.path}` });
  }

  async shutdown(): Promise<void> {
    this.readySince = undefined;
    await this.server.close();
  }

  ready(): void {
    this.readySince ??= new Date();
  }

  notReady(): void {
    this.readySince = undefined;
  }

  /** The bound address (the real port when the endpoint asked for 0). */
  address(): HostPort | undefined {
    return this.server.address();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (!this.matches(req.url ?? '/')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    const since = this.readySince;
    const custom = this.config.response_body;
    if (custom) {
      res.writeHead(since ? 200 : 503, { 'content-type': 'text/plain' }).end(since ? custom.healthy : custom.unhealthy);
      return;
    }
    const body = since
      ? { status: 'Server available', upSince: since.toISOString(), uptime: goDuration(Date.now() - since.getTime()) }
      : { status: 'Server not available', upSince: ZERO_TIME, uptime: '' };
    res.writeHead(since ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  // Go's ServeMux rule, which the Collector inherits: a path ending in "/" matches the subtree.
  private matches(url: string): boolean {
    const path = url.split('?')[0] ?? '/';
    const want = this.config.path;
    return want.endsWith('/') ? path.startsWith(want) : path === want;
  }
}

/** Milliseconds as Go prints a time.Duration: "1h2m3.5s", "49.013s", "250ms". */
export function goDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${trim(ms)}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const sec = (ms % 60_000) / 1000;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${trim(sec)}s`;
}

function trim(n: number): string {
  return String(Number(n.toFixed(3)));
}
