// The Collector's pprof extension for Node.js: /debug/pprof/profile?seconds=N (CPU, gzipped
// pprof protobuf, as Go's net/http/pprof serves it), /debug/pprof/heap, and save_to_file: a
// CPU profile from start to shutdown.
import { writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Component, Host, Settings } from '../../pipeline/component';
import { ComponentError, errorMessage } from '../../pipeline/errors';
import { HttpEndpoint } from '../../pipeline/telemetry';
import type { HostPort } from '../../pipeline/telemetry';
import type { PprofConfig } from './config';
import { acquireHeapProfiler, heapProfile, ProfilerBusyError, releaseHeapProfiler, startCpuProfile } from './profiler';
import type { CpuProfile } from './profiler';

const DEFAULT_SECONDS = 30; // Go's default
const MAX_SECONDS = 600;

const INDEX = `<!DOCTYPE html><html><head><title>/debug/pprof/</title></head><body>
<p>Profiles (gzipped pprof protobuf; read with <code>go tool pprof</code>):</p>
<ul><li><a href="profile?seconds=30">profile</a>: CPU profile, ?seconds=N (default 30)</li>
<li><a href="heap">heap</a>: sampled live heap</li></ul></body></html>`;

export class Pprof implements Component {
  private readonly server: HttpEndpoint;
  private readonly owner: string;
  private heapHeld = false;
  private saving: CpuProfile | undefined;
  /** On-demand profiles in progress, ended early at shutdown. */
  private readonly running = new Set<() => void>();

  constructor(private readonly settings: Settings, private readonly config: PprofConfig) {
    this.owner = `extensions::${settings.id}`;
    this.server = new HttpEndpoint(this.owner, config.endpoint, (req, res) => { void this.handle(req, res); });
  }

  async start(_host: Host): Promise<void> {
    // Bind first: a taken port then fails start with no profiler left running.
    await this.server.start();
    if (this.config.save_to_file) {
      try {
        this.saving = startCpuProfile();
      } catch (err) {
        await this.server.close();
        throw new ComponentError(this.owner, `save_to_file: ${errorMessage(err)}`, { cause: err });
      }
    }
    acquireHeapProfiler();
    this.heapHeld = true;
    this.settings.logger.info('pprof listening', { url: `${this.server.url()}/debug/pprof/` });
  }

  async shutdown(): Promise<void> {
    for (const end of [...this.running]) end();
    await this.server.close();
    if (this.heapHeld) releaseHeapProfiler();
    this.heapHeld = false;
    await this.saveProfile();
  }

  /** The bound address (the real port when the endpoint asked for 0). */
  address(): HostPort | undefined {
    return this.server.address();
  }

  private async saveProfile(): Promise<void> {
    const saving = this.saving;
    this.saving = undefined;
    if (!saving) return;
    try {
      await writeFile(this.config.save_to_file, await saving.stop());
      this.settings.logger.info('cpu profile saved', { file: this.config.save_to_file });
    } catch (err) {
      // Shutdown goes on; the profile is lost and says so.
      this.settings.logger.error('cpu profile not saved', { file: this.config.save_to_file, error: errorMessage(err) });
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://pprof');
    try {
      switch (url.pathname) {
        case '/debug/pprof':
        case '/debug/pprof/':
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(INDEX);
          return;
        case '/debug/pprof/profile':
          await this.cpu(url, res);
          return;
        case '/debug/pprof/heap':
          sendProfile(res, 'heap', await heapProfile());
          return;
        default:
          res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      }
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(`${this.owner}: ${errorMessage(err)}\n`);
      else res.destroy();
    }
  }

  private async cpu(url: URL, res: ServerResponse): Promise<void> {
    const seconds = parseSeconds(url.searchParams.get('seconds'));
    if (seconds > MAX_SECONDS) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`profile duration exceeds ${MAX_SECONDS}s\n`);
      return;
    }
    let profile: CpuProfile;
    try {
      profile = startCpuProfile();
    } catch (err) {
      if (!(err instanceof ProfilerBusyError)) throw err;
      // Go's answer when a CPU profile is already running (save_to_file or another request).
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`Could not enable CPU profiling: ${err.message}\n`);
      return;
    }
    await this.wait(seconds * 1000);
    sendProfile(res, 'profile', await profile.stop());
  }

  /** Sleeps for the profile's duration, or less if the extension shuts down meanwhile. */
  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        this.running.delete(end);
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.running.add(end);
    });
  }
}

/** Go's rule: a missing, unparsable or non-positive value means the default. */
function parseSeconds(raw: string | null): number {
  const n = raw === null ? NaN : Number(raw);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_SECONDS;
}

function sendProfile(res: ServerResponse, name: string, gz: Buffer): void {
  if (res.destroyed) return; // the client went away while we profiled
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-disposition': `attachment; filename="${name}"`,
    'x-content-type-options': 'nosniff',
  }).end(gz);
}
