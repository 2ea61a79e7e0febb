// HTTP/1.x message heads from the first bytes of a message: request line or status line and the
// few headers spans need. Everything else (Authorization, Cookie, Set-Cookie, any other header) is
// skipped while scanning and never stored.

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

const lower = (c: number): number => c | 0x20;

/** Whether b[at, end) starts with `ascii` (exact bytes). */
function startsWith(b: Buffer, at: number, ascii: string, end: number): boolean {
  if (end - at < ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (b[at + i] !== ascii.charCodeAt(i)) return false;
  return true;
}

/** What the message starting at b[from] (bytes up to `end`) looks like: 'request', 'response',
 * or undefined. Byte compares only: this runs for every syscall record. */
export function startKind(b: Buffer, from = 0, end = b.length): 'request' | 'response' | undefined {
  if (end - from < 5) return undefined;
  if (startsWith(b, from, 'HTTP/1.', end)) return 'response';
  let sp = -1;
  const max = Math.min(end, from + 8);
  for (let i = from; i < max; i++) {
    if (b[i] === 0x20) { sp = i; break; }
  }
  if (sp < 0) return undefined;
  switch (sp - from) {
    case 3: return startsWith(b, from, 'GET', end) || startsWith(b, from, 'PUT', end) ? 'request' : undefined;
    case 4: return startsWith(b, from, 'POST', end) || startsWith(b, from, 'HEAD', end) ? 'request' : undefined;
    case 5: return startsWith(b, from, 'PATCH', end) || startsWith(b, from, 'TRACE', end) ? 'request' : undefined;
    case 6: return startsWith(b, from, 'DELETE', end) ? 'request' : undefined;
    case 7: return startsWith(b, from, 'OPTIONS', end) || startsWith(b, from, 'CONNECT', end) ? 'request' : undefined;
    default: return undefined;
  }
}

const REQUEST_STARTS = ['GET ', 'PUT ', 'POST ', 'HEAD ', 'PATCH ', 'TRACE ', 'DELETE ', 'OPTIONS ', 'CONNECT '];
const RESPONSE_START = 'HTTP/1.';

/** Whether b[from, end) is too short for startKind to tell but begins a start line of `kind`: a
 * message start cut by the end of a syscall ("HTTP", "DELE"). */
export function startPrefix(b: Buffer, from: number, end: number, kind: 'request' | 'response'): boolean {
  const n = end - from;
  if (n <= 0) return false;
  const prefixOf = (start: string): boolean => n <= start.length && startsWith(b, from, start.slice(0, n), end);
  return kind === 'response' ? prefixOf(RESPONSE_START) : REQUEST_STARTS.some(prefixOf);
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

/** Whether the header name at b[pos, pos + name.length) is `name` (lower case), case-insensitively. */
function nameIs(b: Buffer, pos: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if (lower(b[pos + i] as number) !== name.charCodeAt(i)) return false;
  return true;
}

/** The kept header whose name is b[pos, pos + len), matched on bytes (no string per header). */
function wantedName(b: Buffer, pos: number, len: number): string | undefined {
  switch (len) {
    case 4: return nameIs(b, pos, 'host') ? 'host' : undefined;
    case 6: return nameIs(b, pos, 'expect') ? 'expect' : undefined;
    case 10:
      if (nameIs(b, pos, 'user-agent')) return 'user-agent';
      if (nameIs(b, pos, 'connection')) return 'connection';
      return nameIs(b, pos, 'tracestate') ? 'tracestate' : undefined;
    case 11: return nameIs(b, pos, 'traceparent') ? 'traceparent' : undefined;
    case 14: return nameIs(b, pos, 'content-length') ? 'content-length' : undefined;
    case 17: return nameIs(b, pos, 'transfer-encoding') ? 'transfer-encoding' : undefined;
    default: return undefined;
  }
}

/** Index of the "\r\n" in b[from, end) (its \r), or -1. A byte loop: heads are short and a
 * native indexOf call per line costs more than the scan. */
function crlf(b: Buffer, from: number, end: number): number {
  for (let i = from + 1; i < end; i++) {
    if (b[i] === 0x0a && b[i - 1] === 0x0d) return i - 1;
  }
  return -1;
}

/** Whitespace String.prototype.trim removes, among latin1 bytes. */
const isTrimmed = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;

/** The last value decoded for a header (Host, User-Agent): the same bytes come back on every
 * request of a client, and comparing them costs less than making the string again. */
interface ValueCache { bytes: Buffer; value: string }

function cachedValue(cache: ValueCache, b: Buffer, start: number, end: number): string {
  const n = end - start;
  const prev = cache.bytes;
  if (prev.length === n) {
    let i = 0;
    while (i < n && prev[i] === b[start + i]) i++;
    if (i === n) return cache.value;
  }
  const value = b.toString('latin1', start, end);
  if (n <= 256) {
    cache.bytes = Buffer.from(b.subarray(start, end));
    cache.value = value;
  }
  return value;
}

const hostCache: ValueCache = { bytes: Buffer.alloc(0), value: '' };
const agentCache: ValueCache = { bytes: Buffer.alloc(0), value: '' };

/** Keeps a wanted header whose trimmed value is b[start, end): the frequent forms (a plain
 * Content-Length, "Connection: keep-alive" or "close", Host, User-Agent) without a regular
 * expression, the others through keep(). */
function keepBytes(h: KeptHeaders, name: string, b: Buffer, start: number, end: number): void {
  switch (name) {
    case 'content-length': {
      const n = end - start;
      if (n < 1 || n > 15) break;
      let v = 0;
      for (let i = start; i < end; i++) {
        const d = (b[i] as number) - 0x30;
        if (d < 0 || d > 9) return;
        v = v * 10 + d;
      }
      h.contentLength = v;
      return;
    }
    case 'connection':
      if (end - start === 10 && nameIs(b, start, 'keep-alive')) { h.close = false; return; }
      if (end - start === 5 && nameIs(b, start, 'close')) { h.close = true; return; }
      break;
    case 'host':
      h.host = cachedValue(hostCache, b, start, Math.min(end, start + MAX_KEPT_VALUE));
      return;
    case 'user-agent':
      h.userAgent = cachedValue(agentCache, b, start, Math.min(end, start + MAX_KEPT_VALUE));
      return;
    default:
  }
  keep(h, name, b.toString('latin1', start, end));
}

/** The method of a request line starting at `from`, as a constant string, or undefined. */
function methodAt(b: Buffer, from: number, end: number): string | undefined {
  let sp = -1;
  const max = Math.min(end, from + 8);
  for (let i = from; i < max; i++) {
    if (b[i] === 0x20) { sp = i; break; }
  }
  switch (sp - from) {
    case 3: return startsWith(b, from, 'GET', end) ? 'GET' : startsWith(b, from, 'PUT', end) ? 'PUT' : undefined;
    case 4: return startsWith(b, from, 'POST', end) ? 'POST' : startsWith(b, from, 'HEAD', end) ? 'HEAD' : undefined;
    case 5: return startsWith(b, from, 'PATCH', end) ? 'PATCH' : startsWith(b, from, 'TRACE', end) ? 'TRACE' : undefined;
    case 6: return startsWith(b, from, 'DELETE', end) ? 'DELETE' : undefined;
    case 7: return startsWith(b, from, 'OPTIONS', end) ? 'OPTIONS' : startsWith(b, from, 'CONNECT', end) ? 'CONNECT' : undefined;
    default: return undefined;
  }
}

/** "METHOD SP target SP HTTP/1.x" on b[from, eol), on bytes: one string (the target) per request. */
function requestLine(b: Buffer, from: number, eol: number, headers: KeptHeaders): RequestHead | undefined {
  const method = methodAt(b, from, eol);
  if (method === undefined) return undefined;
  const t0 = from + method.length + 1;
  // " HTTP/1.x" closes the line; the target between holds no whitespace (JavaScript's \s in latin1)
  const vAt = eol - 9;
  if (vAt <= t0 || b[vAt] !== 0x20 || !startsWith(b, vAt + 1, 'HTTP/1.', eol)) return undefined;
  const minor = b[eol - 1];
  if (minor !== 0x30 && minor !== 0x31) return undefined;
  for (let i = t0; i < vAt; i++) {
    const c = b[i] as number;
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0) return undefined;
  }
  return { type: 'request', method, target: b.toString('latin1', t0, vAt), version: minor === 0x31 ? '1.1' : '1.0', headers };
}

/**
 * Parses the head at b[from, end) (which may hold only its first bytes). Undefined when the
 * first line is not a complete HTTP/1.x request or status line.
 */
export function parseHead(b: Buffer, from = 0, end = b.length): MessageHead | undefined {
  const eol = crlf(b, from, end);
  if (eol < 0) return undefined;
  const headers: KeptHeaders = { chunked: false, close: false, expectContinue: false };
  let head: MessageHead;
  if (startsWith(b, from, 'HTTP/1.', eol)) {
    // "HTTP/1.x NNN[ reason]"
    const v = b[from + 7];
    const d = (i: number): number => (b[from + 9 + i] as number) - 0x30;
    if (eol - from < 12 || (v !== 0x30 && v !== 0x31) || b[from + 8] !== 0x20 || d(0) < 0 || d(0) > 9 || d(1) < 0 || d(1) > 9 || d(2) < 0 || d(2) > 9) return undefined;
    if (eol - from > 12 && b[from + 12] !== 0x20) return undefined;
    head = { type: 'response', version: v === 0x31 ? '1.1' : '1.0', status: d(0) * 100 + d(1) * 10 + d(2), headers };
  } else {
    const req = requestLine(b, from, eol, headers);
    if (!req) return undefined;
    head = req;
  }
  // headers: name ':' value CRLF ... CRLF CRLF; only the wanted names are decoded
  let pos = eol + 2;
  for (;;) {
    const lineEnd = crlf(b, pos, end);
    if (lineEnd < 0) break; // cut by the capture: the rest of the head is unknown
    if (lineEnd === pos) {
      head.headLength = lineEnd + 2 - from;
      break;
    }
    let colon = -1;
    const limit = Math.min(lineEnd, pos + 33);
    for (let i = pos; i < limit; i++) {
      if (b[i] === 0x3a) { colon = i; break; }
    }
    if (colon > pos) {
      const name = wantedName(b, pos, colon - pos);
      if (name !== undefined) {
        let vs = colon + 1;
        let ve = lineEnd;
        while (vs < ve && isTrimmed(b[vs] as number)) vs++;
        while (ve > vs && isTrimmed(b[ve - 1] as number)) ve--;
        keepBytes(headers, name, b, vs, ve);
      }
    }
    pos = lineEnd + 2;
  }
  return head;
}

/** A response that can carry no body, whatever its headers say (RFC 9112 6.3). */
export function responseHasNoBody(status: number, requestMethod: string | undefined): boolean {
  return requestMethod === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304;
}
