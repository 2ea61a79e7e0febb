// HTTP POSTs over keep-alive agents (http, or https with the configured TLS), one deadline per
// exchange, and the OTLP/HTTP spec's classification of the answer: 429, 502, 503, 504 and network
// failures are retryable (Retry-After honoured), every other 4xx/5xx is permanent. The otlphttp
// exporter, the jaeger exporter (OTLP/HTTP and Thrift over HTTP) and the prometheusremotewrite
// exporter all send through this.
import * as http from 'node:http';
import * as https from 'node:https';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { Settings } from '../component';
import { errorMessage, PermanentError, RetryableError } from '../errors';
import type { Signal, SignalData } from '../pdata';
import { codecs, decodeStatus, decodeStatusJson } from './codec';
import type { PartialSuccess, Transport } from './transport-exporter';
import { loadClientTls, type ClientTlsConfig } from './transport-tls';

const gzip = promisify(zlib.gzip);
const RETRYABLE = new Set([429, 502, 503, 504]);
/** Enough for any Status or partial-success message; the rest of a large body is discarded. */
const MAX_RESPONSE = 1024 * 1024;

/** The config keys an HTTP sender reads (the Collector's confighttp names). */
export interface HttpClientConfig {
  headers: Record<string, string>;
  tls: ClientTlsConfig;
  compression: 'gzip' | 'none';
  /** Milliseconds for the whole exchange. */
  timeout: number;
}

export interface Answer { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

export interface HttpPosterOptions {
  /**
   * A protocol's own headers, sent on every POST after Content-Type (e.g. Content-Encoding:
   * snappy, with compression none, for a body the caller has encoded).
   */
  fixedHeaders?: Readonly<Record<string, string>>;
}

/** One exporter's HTTP client: checked headers, keep-alive agents, POST with a deadline. */
export class HttpPoster {
  private httpAgent: http.Agent | undefined;
  private httpsAgent: https.Agent | undefined;

  constructor(private readonly settings: Settings, private readonly config: HttpClientConfig, private readonly options: HttpPosterOptions = {}) {}

  /** Checks the headers once: a bad one would otherwise fail every request, retried as if transient. */
  checkHeaders(): void {
    for (const [name, value] of Object.entries(this.config.headers)) {
      try {
        http.validateHeaderName(name);
        http.validateHeaderValue(name, value);
      } catch (err) {
        throw new PermanentError(`${this.settings.id}: headers: ${errorMessage(err)}`);
      }
    }
  }

  /** Builds the agents (https only when one of `urls` needs it); call checkHeaders() first. */
  async start(urls: readonly URL[]): Promise<void> {
    this.httpAgent = new http.Agent({ keepAlive: true });
    if (urls.some((u) => u.protocol === 'https:')) this.httpsAgent = await httpsAgent(this.settings.id, this.config.tls);
  }

  /**
   * POSTs `body` with the configured headers, `contentType`, the fixed headers, our User-Agent
   * and, with compression gzip, gzipped. Rejects with RetryableError on network failures and the
   * timeout; any HTTP answer resolves (see `httpFailure`).
   */
  async post(url: URL, contentType: string, body: Buffer): Promise<Answer> {
    // Header order matters to nobody but is kept stable so that all senders send alike.
    const headers: http.OutgoingHttpHeaders = {
      ...this.config.headers,
      'Content-Type': contentType,
      ...this.options.fixedHeaders,
      'User-Agent': `${this.settings.buildInfo.command}/${this.settings.buildInfo.version}`,
    };
    if (this.config.compression === 'gzip') {
      body = await gzip(body);
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Content-Length'] = body.length;
    return this.exchange(url, headers, body);
  }

  private exchange(url: URL, headers: http.OutgoingHttpHeaders, body: Buffer): Promise<Answer> {
    const secure = url.protocol === 'https:';
    const request = secure ? https.request : http.request;
    const agent = secure ? this.httpsAgent : this.httpAgent;
    if (!agent) return Promise.reject(new RetryableError('not started'));
    const timeoutMs = this.config.timeout;
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
      // One deadline for the whole exchange, as the Collector's timeout.
      const timer = setTimeout(() => req.destroy(new Error(`timeout after ${timeoutMs}ms`)), timeoutMs);
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

/** A keep-alive https.Agent with the Collector's client TLS settings. */
export async function httpsAgent(id: string, config: ClientTlsConfig): Promise<https.Agent> {
  const { insecure_skip_verify: skip, server_name_override: name } = config;
  return new https.Agent({
    keepAlive: true,
    ...(await loadClientTls(id, config)),
    rejectUnauthorized: !skip,
    ...(name ? { servername: name } : {}),
  });
}

function networkReason(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}

/** An absolute http:// or https:// URL with a host: what every HTTP exporter's endpoint must be. */
export function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host !== '';
  } catch {
    return false;
  }
}

export function isSuccess(answer: Answer): boolean {
  return answer.status >= 200 && answer.status < 300;
}

/**
 * The error for a non-2xx answer; `detail` is what the server said, if readable. `retryable`
 * lets a protocol add its own transient answers to the OTLP/HTTP ones (429, 502, 503, 504).
 */
export function httpFailure(url: URL, answer: Answer, detail: string, retryable?: (answer: Answer, detail: string) => boolean): Error {
  const message = `request to ${url.href} responded with HTTP ${answer.status} ${http.STATUS_CODES[answer.status] ?? ''}`.trimEnd() + (detail ? `: ${detail}` : '');
  if (RETRYABLE.has(answer.status) || retryable?.(answer, detail)) {
    return new RetryableError(message, { retryAfterMs: retryAfter(answer.headers['retry-after']) });
  }
  return new PermanentError(message);
}

/** The start (`max` bytes) of a plain-text body. */
export function textDetail(answer: Answer, max = 256): string {
  return answer.body.subarray(0, max).toString('utf8').trim();
}

function contentType(answer: Answer): string {
  return (answer.headers['content-type'] ?? '').toLowerCase();
}

/** The google.rpc.Status message of an OTLP error body, or the start of a plain-text one. */
export function statusMessage(answer: Answer): string {
  if (answer.body.length === 0) return '';
  const type = contentType(answer);
  try {
    if (type.startsWith('application/x-protobuf') || type.startsWith('application/protobuf')) return decodeStatus(answer.body).message;
    if (type.startsWith('application/json')) return decodeStatusJson(answer.body).message;
  } catch (err) {
    return `unreadable status body (${errorMessage(err)})`;
  }
  return textDetail(answer);
}

/** Retry-After as delay-seconds or an HTTP date, in milliseconds. */
export function retryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

// ---- OTLP/HTTP -------------------------------------------------------------------------------

export interface OtlpHttpConfig extends HttpClientConfig { encoding: 'proto' | 'json' }

/** One OTLP/HTTP POST per batch to each signal's URL. */
export class OtlpHttpTransport implements Transport {
  private readonly poster: HttpPoster;
  private readonly urls = new Map<Signal, URL>();

  /** `urls`: where each signal goes; a signal without one fails start(). */
  constructor(private readonly settings: Settings, private readonly config: OtlpHttpConfig, private readonly signalUrls: Partial<Record<Signal, string>>) {
    this.poster = new HttpPoster(settings, config);
  }

  async start(): Promise<void> {
    this.poster.checkHeaders();
    for (const [signal, url] of Object.entries(this.signalUrls) as [Signal, string | undefined][]) {
      if (!url) throw new PermanentError(`${this.settings.id}: no URL for ${signal}: set endpoint or ${signal}_endpoint`);
      this.urls.set(signal, new URL(url));
    }
    await this.poster.start([...this.urls.values()]);
  }

  async send<S extends Signal>(signal: S, data: SignalData[S]): Promise<PartialSuccess> {
    const url = this.urls.get(signal);
    if (!url) throw new RetryableError('not started');
    const codec = codecs[signal] as unknown as { encodeRequest(d: SignalData[S]): Uint8Array; encodeRequestJson(d: SignalData[S]): string };
    const json = this.config.encoding === 'json';
    const body = json ? Buffer.from(codec.encodeRequestJson(data)) : toBuffer(codec.encodeRequest(data));
    const answer = await this.poster.post(url, json ? 'application/json' : 'application/x-protobuf', body);
    if (isSuccess(answer)) return partialSuccess(signal, answer);
    throw httpFailure(url, answer, statusMessage(answer));
  }

  async close(): Promise<void> {
    this.poster.close();
  }
}

function toBuffer(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

function partialSuccess(signal: Signal, answer: Answer): PartialSuccess {
  if (answer.body.length === 0) return { rejected: 0, message: '' };
  try {
    return contentType(answer).startsWith('application/json') ? codecs[signal].decodeResponseJson(answer.body) : codecs[signal].decodeResponse(answer.body);
  } catch {
    // The data was accepted; an unreadable response body does not change that.
    return { rejected: 0, message: '' };
  }
}
