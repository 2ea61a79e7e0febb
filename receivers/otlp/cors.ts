// Simple CORS for browsers posting OTLP/HTTP, with the Collector's `cors` options:
// allowed_origins (exact, `*`, or one `*` wildcard such as https://*.example.com),
// allowed_headers (added to the always-safe ones; `*` allows any), max_age in seconds.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CorsConfig } from './config';

const SAFE_HEADERS = ['accept', 'content-type', 'content-encoding', 'x-requested-with', 'origin'];

export class Cors {
  private readonly origins: RegExp[];
  private readonly anyHeader: boolean;
  private readonly headers: Set<string>;

  constructor(private readonly cfg: CorsConfig) {
    this.origins = cfg.allowed_origins.map(originPattern);
    this.anyHeader = cfg.allowed_headers.includes('*');
    this.headers = new Set([...SAFE_HEADERS, ...cfg.allowed_headers.map((h) => h.toLowerCase())]);
  }

  /** Adds the CORS headers; true when the request was a preflight and has been answered. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (!origin) return false;
    const allowed = this.origins.some((re) => re.test(origin));
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    res.setHeader('Vary', preflight ? 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers' : 'Origin');
    if (!preflight) {
      if (allowed) res.setHeader('Access-Control-Allow-Origin', origin);
      return false;
    }
    if (allowed && this.preflightOk(req)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Methods', 'POST');
      const asked = req.headers['access-control-request-headers'];
      if (asked) res.setHeader('Access-Control-Allow-Headers', asked);
      if (this.cfg.max_age > 0) res.setHeader('Access-Control-Max-Age', String(this.cfg.max_age));
    }
    // A refused preflight still gets 204, without the allow headers: the browser blocks it.
    res.writeHead(204).end();
    return true;
  }

  private preflightOk(req: IncomingMessage): boolean {
    if (String(req.headers['access-control-request-method']).toUpperCase() !== 'POST') return false;
    if (this.anyHeader) return true;
    const asked = String(req.headers['access-control-request-headers'] ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
    return asked.every((h) => this.headers.has(h));
  }
}

function originPattern(origin: string): RegExp {
  if (origin === '*') return /^.*$/;
  const escaped = origin.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`, 'i');
}
