// OTLP/HTTP intake on node:http(s): POST on the three paths, protobuf or JSON, gzip or deflate.
// Every answer is an OTLP response or a google.rpc.Status in the request's encoding.
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../pipeline/logger';
import { codecs, encodeStatus, encodeStatusJson } from '../../pipeline/otlp/codec';
import { loadServerTls } from '../../pipeline/otlp/transport-tls';
import type { Signal } from '../../pipeline/pdata';
import { BodyError, decodeContent, discardBody, readBody } from './body';
import { urlPath, type HttpConfig } from './config';
import { Cors } from './cors';
import { formatHostPort, parseEndpoint } from './endpoint';
import type { Reservation } from './admission';
import type { Intake, Outcome } from './intake';
import { listenError } from './listen-error';

const DEFAULT_MAX_BODY = 20 * 1024 * 1024;

type Encoding = 'proto' | 'json';

// google.rpc.Code values used in Status bodies.
const CODE = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14 } as const;

/** The encoding a Content-Type asks for; undefined when it is neither protobuf nor JSON. */
export function requestEncoding(contentType: string | undefined): Encoding | undefined {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (media === 'application/x-protobuf' || media === 'application/protobuf') return 'proto';
  if (media === 'application/json') return 'json';
  return undefined;
}

/**
 * How long an answered request's unread body is drained before the connection is cut. Long
 * enough for a 100 MB upload on a busy machine (1 s was not, under a loaded test run); draining
 * discards, so it costs no memory (nginx lingers up to 30 s).
 */
const LINGER_MS = 10_000;

/**
 * A body we did not read in full (refused, too large): closing at once makes the kernel reset a
 * connection the client is still writing to, and the client sees the reset, not our answer.
 * Drain it for a moment instead (discarding, so no memory is held) and cut the connection only
 * if it is still unfinished then, as Go's net/http lingers before closing.
 */
function lingerThenClose(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.once('finish', () => {
    if (req.complete) return;
    const timer = setTimeout(() => { if (!req.complete) req.socket.destroy(); }, LINGER_MS);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    req.resume();
  });
}

export class HttpIntake {
  private server: http.Server | undefined;
  private bound: string | undefined;
  private readonly routes = new Map<string, Signal>();
  private readonly cors: Cors | undefined;
  private readonly maxBody: number;
  private stopping = false;
  private active = 0;
  private onIdle: (() => void) | undefined;

  constructor(private readonly cfg: HttpConfig, private readonly intake: Intake, private readonly logger: Logger) {
    this.routes.set(urlPath(cfg.traces_url_path), 'traces');
    this.routes.set(urlPath(cfg.metrics_url_path), 'metrics');
    this.routes.set(urlPath(cfg.logs_url_path), 'logs');
    this.cors = cfg.cors && cfg.cors.allowed_origins.length > 0 ? new Cors(cfg.cors) : undefined;
    // As in the Collector, 0 means the default.
    this.maxBody = cfg.max_request_body_size > 0 ? cfg.max_request_body_size : DEFAULT_MAX_BODY;
  }

  get address(): string | undefined { return this.bound; }

  async start(): Promise<string> {
    const ep = parseEndpoint(this.cfg.endpoint);
    if (typeof ep === 'string') throw new Error(`protocols::http::endpoint: ${ep}`);
    const server = await this.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(listenError(this.cfg.endpoint, err)));
      server.listen({ host: ep.host, port: ep.port }, () => resolve());
    });
    server.on('error', (err) => this.logger.error('http server error', { error: err.message }));
    this.server = server;
    const addr = server.address() as AddressInfo;
    this.bound = formatHostPort(addr.address, addr.port);
    return this.bound;
  }

  /** Stops listening at once; requests in progress finish within timeoutMs, then are cut. */
  async stop(timeoutMs: number): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.stopping = true;
    server.close();
    server.closeIdleConnections();
    await this.idle(timeoutMs);
    // Whatever is left is idle keep-alive sockets or requests past the deadline.
    server.closeAllConnections();
  }

  private idle(timeoutMs: number): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.onIdle = () => { clearTimeout(timer); resolve(); };
    });
  }

  private track(res: http.ServerResponse): void {
    this.active++;
    res.once('close', () => {
      if (--this.active === 0 && this.onIdle) this.onIdle();
    });
  }

  private async createServer(): Promise<http.Server> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      this.track(res);
      this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    };
    if (!this.cfg.tls) return http.createServer(handler);
    const tls = await loadServerTls(this.cfg.tls);
    return https.createServer({
      cert: tls.cert,
      key: tls.key,
      minVersion: tls.minVersion,
      ...(tls.maxVersion ? { maxVersion: tls.maxVersion } : {}),
      // A client CA turns on mutual TLS.
      ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
    }, handler);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.stopping) res.setHeader('Connection', 'close');
    if (this.cors?.handle(req, res)) return;
    const encoding = requestEncoding(req.headers['content-type']);
    const signal = this.routes.get((req.url ?? '/').split('?')[0]!);
    if (!signal || !this.intake.serves(signal)) {
      return this.status(res, 404, encoding ?? 'json', CODE.NOT_FOUND, `${req.url} not found`);
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return this.status(res, 405, encoding ?? 'json', CODE.UNIMPLEMENTED, `method ${req.method} not allowed, use POST`);
    }
    if (!encoding) {
      return this.status(res, 415, 'json', CODE.INVALID_ARGUMENT, `unsupported Content-Type "${req.headers['content-type'] ?? ''}", use application/x-protobuf or application/json`);
    }
    await this.export(signal, encoding, req, res);
  }

  private async export(signal: Signal, encoding: Encoding, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // Reserve before reading: a refused body is never held in memory.
    const declared = Number(req.headers['content-length']);
    const reservation = this.intake.admit(signal, 'http', Number.isFinite(declared) ? Math.min(declared, this.maxBody) : 0);
    if (!reservation) {
      await discardBody(req, this.maxBody);
      return this.refuse(res, encoding, this.intake.admissionRefusal());
    }
    try {
      await this.decodeAndDeliver(signal, encoding, req, res, reservation);
    } finally {
      reservation.release();
    }
  }

  private async decodeAndDeliver(signal: Signal, encoding: Encoding, req: http.IncomingMessage, res: http.ServerResponse, reservation: Reservation): Promise<void> {
    const codec = codecs[signal];
    let data;
    try {
      const raw = await readBody(req, this.maxBody, (total) => reservation.growTo(total));
      const body = await decodeContent(raw, req.headers['content-encoding'], this.maxBody);
      // Inflated, the request may no longer fit.
      if (!reservation.growTo(body.length)) throw new BodyError(503, 'too much data in flight, retry later');
      data = encoding === 'proto' ? codec.decodeRequest(body) : codec.decodeRequestJson(body);
    } catch (err) {
      if (err instanceof BodyError && err.status === 503) {
        this.intake.refusedAtAdmission(signal, 'http');
        return this.refuse(res, encoding, this.intake.admissionRefusal());
      }
      this.intake.malformed(signal, 'http');
      const status = err instanceof BodyError ? err.status : 400;
      const code = status === 413 ? CODE.RESOURCE_EXHAUSTED : CODE.INVALID_ARGUMENT;
      return this.status(res, status, encoding, code, err instanceof BodyError ? err.message : `cannot decode the ${signal} request: ${(err as Error).message}`);
    }
    const outcome = await this.intake.deliver(signal, data);
    if (outcome.kind === 'accepted') {
      return this.reply(res, 200, encoding, encoding === 'proto' ? codec.encodeResponse() : codec.encodeResponseJson());
    }
    if (outcome.kind === 'invalid') return this.status(res, 400, encoding, CODE.INVALID_ARGUMENT, outcome.message);
    return this.refuse(res, encoding, outcome);
  }

  /** A refusal is retryable: 503 (as the Collector maps UNAVAILABLE) with Retry-After, never 500. */
  private refuse(res: http.ServerResponse, encoding: Encoding, outcome: Extract<Outcome, { kind: 'refused' }>): void {
    // Without a known delay, 1 s: a sender always learns when to come back.
    res.setHeader('Retry-After', String(Math.max(1, Math.ceil((outcome.retryAfterMs ?? 1000) / 1000))));
    this.status(res, 503, encoding, CODE.UNAVAILABLE, outcome.message);
  }

  private status(res: http.ServerResponse, httpStatus: number, encoding: Encoding, code: number, message: string): void {
    this.reply(res, httpStatus, encoding, encoding === 'proto' ? encodeStatus(code, message) : encodeStatusJson(code, message));
  }

  private reply(res: http.ServerResponse, httpStatus: number, encoding: Encoding, body: Uint8Array | string): void {
    const req = res.req;
    if (req && !req.complete) lingerThenClose(req, res);
    res.writeHead(httpStatus, { 'Content-Type': encoding === 'proto' ? 'application/x-protobuf' : 'application/json' });
    res.end(body);
  }

  /** A bug in this file, never a refusal: answer 500 rather than leave the client hanging. */
  private fail(res: http.ServerResponse, err: unknown): void {
    this.logger.error('http request handler failed', { error: err instanceof Error ? err.message : String(err) });
    if (!res.headersSent) this.status(res, 500, 'json', CODE.INTERNAL, 'internal error');
    else res.destroy();
  }
}
