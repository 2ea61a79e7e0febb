// Paths to low-cardinality routes, query strings with secrets redacted, W3C traceparent.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMERIC = /^\d+$/;
/** long hex ids (object ids, hashes): 12+ hex characters with at least one digit */
const HEX_ID = /^(?=.*\d)[0-9a-f]{12,}$/i;

/** "/users/42/orders/9f86d081884c7d65" -> "/users/{id}/orders/{id}". */
export function routeOf(path: string): string {
  if (path === '' || path === '/') return '/';
  return path
    .split('/')
    .map((seg) => (seg !== '' && (NUMERIC.test(seg) || UUID.test(seg) || HEX_ID.test(seg)) ? '{id}' : seg))
    .join('/');
}

/** Splits a request target into path and query (absolute-form targets lose scheme and host). */
export function splitTarget(target: string): { path: string; query?: string } {
  let t = target;
  if (!t.startsWith('/')) {
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(t);
    if (m) t = t.slice(m[0].length) || '/';
  }
  const hash = t.indexOf('#');
  if (hash >= 0) t = t.slice(0, hash);
  const q = t.indexOf('?');
  return q < 0 ? { path: t } : { path: t.slice(0, q), query: t.slice(q + 1) };
}

const SECRET_PARAMS = new Set(['token', 'key', 'password', 'passwd', 'secret', 'sig', 'signature', 'api_key', 'apikey', 'access_token', 'refresh_token', 'auth', 'x-amz-signature', 'x-goog-signature', 'awsaccesskeyid']);

export const REDACTED = 'REDACTED';

/** "a=1&token=x" -> "a=1&token=REDACTED" (names compared case-insensitively, decoded). */
export function redactQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // keep the raw name
      }
      return SECRET_PARAMS.has(name.toLowerCase()) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
    })
    .join('&');
}

export interface TraceParent {
  traceId: Buffer;
  parentSpanId: Buffer;
  flags: number;
}

/** A valid version-00 (or later, read as 00) traceparent, else undefined. */
export function parseTraceparent(v: string | undefined): TraceParent | undefined {
  if (!v) return undefined;
  const m = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-|$)/.exec(v.trim());
  if (!m || m[1] === 'ff') return undefined;
  if (/^0+$/.test(m[2] as string) || /^0+$/.test(m[3] as string)) return undefined;
  return { traceId: Buffer.from(m[2] as string, 'hex'), parentSpanId: Buffer.from(m[3] as string, 'hex'), flags: parseInt(m[4] as string, 16) };
}
