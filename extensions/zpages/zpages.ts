// zPages: live views of this Sonde for people (HTML) and machines (?format=json): service
// build/start information, the pipelines as wired, and every component's counts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Component, Host, Settings } from '../../pipeline/component';
import { errorMessage } from '../../pipeline/errors';
import { HttpEndpoint } from '../../pipeline/telemetry';
import type { HostPort } from '../../pipeline/telemetry';
import type { ZPagesConfig } from './config';
import { componentsHtml, indexHtml, pipelinesHtml, serviceHtml } from './pages';
import type { ServiceInfo } from './pages';

// The page may show ids from users' files: no scripts, no remote content, whatever they contain.
const HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  'cache-control': 'no-store',
};

interface View { html(): string; json(): unknown }

export class ZPages implements Component {
  private readonly server: HttpEndpoint;
  private host: Host | undefined;

  constructor(private readonly settings: Settings, config: ZPagesConfig) {
    this.server = new HttpEndpoint(`extensions::${settings.id}`, config.endpoint, (req, res) => this.handle(req, res));
  }

  async start(host: Host): Promise<void> {
    this.host = host;
    await this.server.start();
    this.settings.logger.info('zpages listening', { url: `${this.server.url()}/debug/servicez` });
  }

  async shutdown(): Promise<void> {
    await this.server.close();
  }

  /** The bound address (the real port when the endpoint asked for 0). */
  address(): HostPort | undefined {
    return this.server.address();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://zpages');
    const view = this.host ? this.view(url.pathname, this.host) : undefined;
    if (!view) {
      res.writeHead(404, { ...HEADERS, 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    try {
      if (url.searchParams.get('format') === 'json') {
        res.writeHead(200, { ...HEADERS, 'content-type': 'application/json' }).end(JSON.stringify(view.json(), null, 2));
      } else {
        res.writeHead(200, { ...HEADERS, 'content-type': 'text/html; charset=utf-8' }).end(view.html());
      }
    } catch (err) {
      // A failing host view must not take the extension down; report it on the page.
      res.writeHead(500, { ...HEADERS, 'content-type': 'text/plain' }).end(`zpages: ${errorMessage(err)}\n`);
    }
  }

  private view(path: string, host: Host): View | undefined {
    switch (path.replace(/\/+$/, '')) {
      case '':
      case '/debug':
        return { html: indexHtml, json: () => ({ pages: ['/debug/servicez', '/debug/pipelinez', '/debug/componentz'] }) };
      case '/debug/servicez': {
        const info = (): ServiceInfo => this.serviceInfo(host);
        return { html: () => serviceHtml(info()), json: info };
      }
      case '/debug/pipelinez':
        return { html: () => pipelinesHtml(host.describe()), json: () => host.describe() };
      case '/debug/componentz':
        return { html: () => componentsHtml(host.stats()), json: () => ({ components: host.stats() }) };
      default:
        return undefined;
    }
  }

  private serviceInfo(host: Host): ServiceInfo {
    const uptimeSeconds = process.uptime();
    return {
      command: this.settings.buildInfo.command,
      version: this.settings.buildInfo.version,
      node: process.version,
      pid: process.pid,
      startTime: new Date(Date.now() - uptimeSeconds * 1000).toISOString(),
      uptimeSeconds,
      configFiles: configFiles(host),
    };
  }
}

/**
 * The config files in use: from the host when it tells (a `configFiles` list beside the graph),
 * else the `--config` arguments Sonde was started with. Inline `yaml:` configs are not shown:
 * they may hold secrets.
 */
export function configFiles(host: Host, argv: readonly string[] = process.argv): string[] {
  const described = (host.describe() as { configFiles?: unknown }).configFiles;
  if (Array.isArray(described)) return described.filter((f): f is string => typeof f === 'string');
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = a === '--config' || a === '-c' ? argv[++i] : a.startsWith('--config=') ? a.slice('--config='.length) : undefined;
    if (value !== undefined && !value.startsWith('yaml:')) files.push(value);
  }
  return files;
}
