// host:port endpoints for Sonde's own HTTP servers: the self-metrics endpoint here and the
// diagnostic extensions (health_check, zpages, pprof). One place decides how an endpoint is read
// and how a failed bind is reported, so every server says "<owner>: listen <addr>: EADDRINUSE".
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import { ComponentError, errorMessage } from '../errors';

export interface HostPort {
  /** '' means every interface (`:8888`, as the Collector accepts). */
  host: string;
  port: number;
}

/** Reads `host:port`, `[::1]:port` or `:port`; undefined when it is none of these. */
export function parseHostPort(endpoint: string): HostPort | undefined {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(endpoint.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? '', port };
}

/** `host:port` for messages, with IPv6 hosts in brackets. */
export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/**
 * Binds `server` and resolves with the bound address (the real port when 0 was asked). A failure
 * becomes a ComponentError naming the owner and the address: `extensions::zpages: listen
 * 127.0.0.1:55679: EADDRINUSE (address already in use)`.
 */
export function listen(server: Server, where: HostPort, owner: string): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const reason = err.code ? `${err.code} (${describeCode(err.code, err)})` : errorMessage(err);
      reject(new ComponentError(owner, `listen ${formatHostPort(where)}: ${reason}`, { cause: err }));
    };
    server.once('error', onError);
    const opts = where.host === '' ? { port: where.port } : { port: where.port, host: where.host };
    server.listen(opts, () => {
      server.off('error', onError);
      const a = server.address() as AddressInfo;
      resolve({ host: where.host === '' ? a.address : where.host, port: a.port });
    });
  });
}

function describeCode(code: string, err: Error): string {
  switch (code) {
    case 'EADDRINUSE': return 'address already in use';
    case 'EADDRNOTAVAIL': return 'no such local address';
    case 'EACCES': return 'permission denied';
    case 'ENOTFOUND': return 'unknown host';
    default: return err.message;
  }
}

/** Closes a server and the keep-alive connections that would hold close() open; safe if not listening. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * One HTTP server on a configured host:port, for Sonde's own endpoints. start() binds (a bad
 * endpoint or a taken port fails with the owner and address); close() is safe twice and
 * without start; address() gives the bound port when 0 was asked (tests).
 */
export class HttpEndpoint {
  private readonly server: Server;
  private bound: HostPort | undefined;

  constructor(private readonly owner: string, private readonly endpoint: string, handler: RequestListener) {
    this.server = createServer(handler);
  }

  async start(): Promise<HostPort> {
    const where = parseHostPort(this.endpoint);
    if (!where) throw new ComponentError(this.owner, `endpoint "${this.endpoint}": expected host:port such as 127.0.0.1:8888`);
    this.bound = await listen(this.server, where, this.owner);
    return { ...this.bound };
  }

  address(): HostPort | undefined {
    return this.bound ? { ...this.bound } : undefined;
  }

  /** `http://host:port` of the bound server (for logs). */
  url(): string | undefined {
    return this.bound ? `http://${formatHostPort(this.bound)}` : undefined;
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }
}
