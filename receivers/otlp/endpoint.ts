// host:port endpoints as the Collector writes them (`127.0.0.1:4317`, `[::1]:4317`, `:4317`).

export interface HostPort { host: string; port: number }

/** The parsed endpoint, or a message saying what is wrong with it. */
export function parseEndpoint(endpoint: string): HostPort | string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(endpoint.trim());
  if (!m) return `expected host:port, got "${endpoint}"`;
  const port = Number(m[3]);
  if (port > 65535) return `port out of range in "${endpoint}"`;
  // Go's ":4317" listens on every interface.
  const host = m[1] ?? (m[2] || '0.0.0.0');
  return { host, port };
}

/** How an address is written back: IPv6 in brackets. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
