// HTTP/1.x message heads from the first bytes of a message: request line or status line and the
// few headers spans need. Everything else (Authorization, Cookie, Set-Cookie, any other header) is
// skipped while scanning and never stored.

const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE']);

/** The headers kept; their values are all a span or the body framing needs. */
export interface KeptHeaders {
  host?: string;
  userAgent?: string;
  traceparent?: string;
  tracestate?: string;
  contentLength?: number;
  chunked: boolean;
  /** "Connection: close" */
  close: boolean;
  /** "Expect: 100-continue" */
  expectContinue: boolean;
}

export interface RequestHead {
  type: 'request';
  method: string;
  /** the request target as sent (origin form "/a?b", or absolute form) */
  target: string;
  version: string;
  headers: KeptHeaders;
  /** bytes of the head (through the blank line), when it ended inside the bytes given */
  headLength?: number;
}

export interface ResponseHead {
  type: 'response';
  version: string;
  status: number;
  headers: KeptHeaders;
  headLength?: number;
}

export type MessageHead = RequestHead | ResponseHead;

/** What a message's first bytes look like: 'request', 'response', or undefined. */
export function startKind(b: Buffer, from = 0): 'request' | 'response' | undefined {
  if (b.length - from < 5) return undefined;
  if (b.toString('latin1', from, from + 7) === 'HTTP/1.') return 'response';
  const sp = b.indexOf(0x20, from);
  if (sp < 0 || sp - from > 7) return undefined;
  return METHODS.has(b.toString('latin1', from, sp)) ? 'request' : undefined;
}

const MAX_KEPT_VALUE = 1024;

function keep(h: KeptHeaders, name: string, value: string): void {
  switch (name) {
    case 'host': h.host = value.slice(0, MAX_KEPT_VALUE); break;
    case 'user-agent': h.userAgent = value.slice(0, MAX_KEPT_VALUE); break;
    case 'traceparent': h.traceparent = value.slice(0, 64); break;
    case 'tracestate': h.tracestate = value.slice(0, 512); break;
    case 'content-length': {
      const n = /^\d{1,15}$/.test(value) ? Number(value) : NaN;
      if (Number.isFinite(n)) h.contentLength = n;
      break;
    }
    case 'transfer-encoding': h.chunked = /(^|,)\s*chunked\s*$/i.test(value); break;
    case 'connection': h.close = /(^|,)\s*close\s*(,|$)/i.test(value); break;
    case 'expect': h.expectContinue = value.toLowerCase() === '100-continue'; break;
    default: // not kept: credentials and everything else stay out of Sonde
  }
}

const WANTED = new Set(['host', 'user-agent', 'traceparent', 'tracestate', 'content-length', 'transfer-encoding', 'connection', 'expect']);

/**
 * Parses the head at the start of `b` (which may hold only its first bytes). Undefined when the
 * first line is not a complete HTTP/1.x request or status line.
 */
export function parseHead(b: Buffer, from = 0): MessageHead | undefined {
  const eol = b.indexOf('\r\n', from, 'latin1');
  if (eol < 0) return undefined;
  const line = b.toString('latin1', from, eol);
  const headers: KeptHeaders = { chunked: false, close: false, expectContinue: false };
  let head: MessageHead;
  if (line.startsWith('HTTP/1.')) {
    const m = /^HTTP\/(1\.[01]) (\d{3})(?: |$)/.exec(line);
    if (!m) return undefined;
    head = { type: 'response', version: m[1] as string, status: Number(m[2]), headers };
  } else {
    const m = /^([A-Z]{3,7}) (\S+) HTTP\/(1\.[01])$/.exec(line);
    if (!m || !METHODS.has(m[1] as string)) return undefined;
    head = { type: 'request', method: m[1] as string, target: m[2] as string, version: m[3] as string, headers };
  }
  // headers: name ':' value CRLF ... CRLF CRLF; only the wanted names are decoded
  let pos = eol + 2;
  for (;;) {
    const end = b.indexOf('\r\n', pos, 'latin1');
    if (end < 0) break; // cut by the capture: the rest of the head is unknown
    if (end === pos) {
      head.headLength = end + 2 - from;
      break;
    }
    const colon = b.indexOf(0x3a, pos);
    if (colon > pos && colon < end && colon - pos <= 32) {
      const name = b.toString('latin1', pos, colon).toLowerCase();
      if (WANTED.has(name)) keep(headers, name, b.toString('latin1', colon + 1, end).trim());
    }
    pos = end + 2;
  }
  return head;
}

/** A response that can carry no body, whatever its headers say (RFC 9112 6.3). */
export function responseHasNoBody(status: number, requestMethod: string | undefined): boolean {
  return requestMethod === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304;
}
