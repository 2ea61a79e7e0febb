// One OTLP/HTTP POST per batch over keep-alive agents, and the OTLP/HTTP spec's classification
// of the answer: 429, 502, 503, 504 and network failures are retryable (Retry-After honoured),
// every other 4xx/5xx is permanent; the server's Status message goes into the error.
import * as http from 'node:http';
import * as https from 'node:https';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { Settings } from '../../pipeline/component';
import { errorMessage, PermanentError, RetryableError } from '../../pipeline/errors';
import { codecs, decodeStatus, decodeStatusJson } from '../../pipeline/otlp/codec';
import type { PartialSuccess, Transport } from '../../pipeline/otlp/transport-exporter';
import { loadTls } from '../../pipeline/otlp/transport-tls';
import type { Signal, SignalData } from '../../pipeline/pdata';
import { signalUrl, type OtlpHttpExporterConfig } from './config';

const gzip = promisify(zlib.gzip);
const RETRYABLE = new Set([429, 502, 503, 504]);
/** Enough for any Status or partial-success message; the rest of a large body is discarded. */
const MAX_RESPONSE = 1024 * 1024;

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

export class HttpTransport implements Transport {
  private readonly urls = new Map<Signal, URL>();
  private httpAgent: http.Agent | undefined;
  private httpsAgent: https.Agent | undefined;

  constructor(private readonly settings: Settings, private readonly config: OtlpHttpExporterConfig, private readonly signals: readonly Signal[]) {}

  async start(): Promise<void> {
    for (const [name, value] of Object.entries(this.config.headers)) {
      // A bad header would otherwise fail every request, and be retried as if transient.
      try {
        http.validateHeaderName(name);
        http.validateHeaderValue(name, value);
      } catch (err) {
        throw new PermanentError(`${this.settings.id}: headers: ${errorMessage(err)}`);
      }
    }
    for (const signal of this.signals) {
      const url = signalUrl(this.config, signal);
      if (!url) throw new PermanentError(`${this.settings.id}: no URL for ${signal}: set endpoint or ${signal}_endpoint`);
      this.urls.set(signal, new URL(url));
    }
    this.httpAgent = new http.Agent({ keepAlive: true });
    if ([...this.urls.values()].some((u) => u.protocol === 'https:')) this.httpsAgent = await this.tlsAgent();
  }

  private async tlsAgent(): Promise<https.Agent> {
    const tls = await loadTls(this.config.tls);
    const { insecure_skip_verify: skip, server_name_override: name } = this.config.tls;
    return new https.Agent({
      keepAlive: true,
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
      minVersion: tls.minVersion,
      ...(tls.maxVersion ? { maxVersion: tls.maxVersion } : {}),
      rejectUnauthorized: !skip,
      ...(name ? { servername: name } : {}),
    });
  }

  async send<S extends Signal>(signal: S, data: SignalData[S]): Promise<PartialSuccess> {
    const url = this.urls.get(signal);
    if (!url) throw new RetryableError('not started');
    const codec = codecs[signal] as unknown as { encodeRequest(d: SignalData[S]): Uint8Array; encodeRequestJson(d: SignalData[S]): string };
    const json = this.config.encoding === 'json';
    let body: Buffer = json ? Buffer.from(codec.encodeRequestJson(data)) : toBuffer(codec.encodeRequest(data));
    const headers: http.OutgoingHttpHeaders = {
      ...this.config.headers,
      'Content-Type': json ? 'application/json' : 'application/x-protobuf',
      'User-Agent': `${this.settings.buildInfo.command}/${this.settings.buildInfo.version}`,
    };
    if (this.config.compression === 'gzip') {
      body = await gzip(body);
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Content-Length'] = body.length;
    const answer = await this.post(url, headers, body);
    if (answer.status >= 200 && answer.status < 300) return partialSuccess(signal, answer);
    throw failure(url, answer);
  }

  private post(url: URL, headers: http.OutgoingHttpHeaders, body: Buffer): Promise<Answer> {
    const secure = url.protocol === 'https:';
    const request = secure ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', headers, agent: secure ? this.httpsAgent : this.httpAgent }, (res) => {
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
      const timer = setTimeout(() => req.destroy(new Error(`timeout after ${this.config.timeout}ms`)), this.config.timeout);
      req.on('error', (err) => {
        clearTimeout(timer);
        // Connection refused, reset, TLS failure, timeout: the server may be back soon.
        reject(new RetryableError(`post ${url.href}: ${networkReason(err)}`, { cause: err }));
      });
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.httpAgent?.destroy();
    this.httpsAgent?.destroy();
  }
}

function toBuffer(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

function networkReason(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}

function isJson(headers: http.IncomingHttpHeaders): boolean {
  return (headers['content-type'] ?? '').toLowerCase().startsWith('application/json');
}

function partialSuccess(signal: Signal, answer: Answer): PartialSuccess {
  if (answer.body.length === 0) return { rejected: 0, message: '' };
  try {
    return isJson(answer.headers) ? codecs[signal].decodeResponseJson(answer.body) : codecs[signal].decodeResponse(answer.body);
  } catch {
    // The data was accepted; an unreadable response body does not change that.
    return { rejected: 0, message: '' };
  }
}

function failure(url: URL, answer: Answer): Error {
  const detail = statusMessage(answer);
  const message = `request to ${url.href} responded with HTTP ${answer.status} ${http.STATUS_CODES[answer.status] ?? ''}`.trimEnd() + (detail ? `: ${detail}` : '');
  if (RETRYABLE.has(answer.status)) return new RetryableError(message, { retryAfterMs: retryAfter(answer.headers['retry-after']) });
  return new PermanentError(message);
}

/** The google.rpc.Status message of an error body, or the start of a plain-text one. */
function statusMessage(answer: Answer): string {
  if (answer.body.length === 0) return '';
  const type = (answer.headers['content-type'] ?? '').toLowerCase();
  try {
    if (type.startsWith('application/x-protobuf') || type.startsWith('application/protobuf')) return decodeStatus(answer.body).message;
    if (type.startsWith('application/json')) return decodeStatusJson(answer.body).message;
  } catch (err) {
    return `unreadable status body (${errorMessage(err)})`;
  }
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
