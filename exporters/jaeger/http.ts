// POSTs over keep-alive agents (http or https with the configured TLS), one deadline per
// exchange, and the OTLP/HTTP classification of the answer, which Jaeger's collector fits too:
// 429, 502, 503, 504 and network failures are retryable (Retry-After honoured), every other
// 4xx/5xx is permanent.
import * as http from 'node:http';
import * as https from 'node:https';
import type { Settings } from '../../pipeline/component';
import { errorMessage, PermanentError, RetryableError } from '../../pipeline/errors';
import { loadTls, type ClientTlsConfig } from '../../pipeline/otlp/transport-tls';

const RETRYABLE = new Set([429, 502, 503, 504]);
/** Enough for any error message; the rest of a large body is discarded. */
const MAX_RESPONSE = 1024 * 1024;

export interface Answer { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

export class HttpPoster {
  private httpAgent: http.Agent | undefined;
  private httpsAgent: https.Agent | undefined;

  constructor(private readonly settings: Settings, private readonly url: URL, private readonly tls: ClientTlsConfig, private readonly timeoutMs: number) {}

  /** Checks the headers once (a bad one would fail every request, retried as if transient). */
  static checkHeaders(id: string, headers: Record<string, string>): void {
    for (const [name, value] of Object.entries(headers)) {
      try {
        http.validateHeaderName(name);
        http.validateHeaderValue(name, value);
      } catch (err) {
        throw new PermanentError(`${id}: headers: ${errorMessage(err)}`);
      }
    }
  }

  async start(): Promise<void> {
    if (this.url.protocol === 'https:') {
      let tls: Awaited<ReturnType<typeof loadTls>>;
      try {
        tls = await loadTls(this.tls);
      } catch (err) {
        throw new PermanentError(`${this.settings.id}: tls: ${errorMessage(err)}`, { cause: err });
      }
      this.httpsAgent = new https.Agent({
        keepAlive: true,
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
        minVersion: tls.minVersion,
        ...(tls.maxVersion ? { maxVersion: tls.maxVersion } : {}),
        rejectUnauthorized: !this.tls.insecure_skip_verify,
        ...(this.tls.server_name_override ? { servername: this.tls.server_name_override } : {}),
      });
    } else {
      this.httpAgent = new http.Agent({ keepAlive: true });
    }
  }

  post(headers: http.OutgoingHttpHeaders, body: Buffer): Promise<Answer> {
    const url = this.url;
    const secure = url.protocol === 'https:';
    const request = secure ? https.request : http.request;
    const agent = secure ? this.httpsAgent : this.httpAgent;
    if (!agent) return Promise.reject(new RetryableError('not started'));
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_RESPONSE) chunks.push(c);
        });
        res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }); });
        res.on('error', (err) => { clearTimeout(timer); reject(new RetryableError(`reading the response from ${url.href}: ${err.message}`, { cause: err })); });
      });
      const timer = setTimeout(() => req.destroy(new Error(`timeout after ${this.timeoutMs}ms`)), this.timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        // Connection refused, reset, TLS failure, timeout: the server may be back soon.
        reject(new RetryableError(`post ${url.href}: ${networkReason(err)}`, { cause: err }));
      });
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent?.destroy();
    this.httpsAgent?.destroy();
    this.httpAgent = undefined;
    this.httpsAgent = undefined;
  }
}

function networkReason(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}

/** The error for a non-2xx answer; `detail` is what the server said, if readable. */
export function failure(url: URL, answer: Answer, detail: string): Error {
  const message = `request to ${url.href} responded with HTTP ${answer.status} ${http.STATUS_CODES[answer.status] ?? ''}`.trimEnd() + (detail ? `: ${detail}` : '');
  if (RETRYABLE.has(answer.status)) return new RetryableError(message, { retryAfterMs: retryAfter(answer.headers['retry-after']) });
  return new PermanentError(message);
}

/** The start of a plain-text body (Jaeger's collector answers errors as text). */
export function textDetail(answer: Answer): string {
  return answer.body.subarray(0, 256).toString('utf8').trim();
}

/** Retry-After as delay-seconds or an HTTP date, in milliseconds. */
export function retryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
