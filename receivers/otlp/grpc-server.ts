// OTLP/gRPC intake on a grpc-js Server. Requests arrive as raw bytes (otlpGrpcRawServices) and
// are decoded here, so a malformed payload answers INVALID_ARGUMENT with the decoder's message (a
// throwing grpc-js deserializer would answer INTERNAL). grpc-js itself handles gzip and the size limit
// (RESOURCE_EXHAUSTED, as grpc-go does for the Collector), also after decompression.
import * as grpc from '@grpc/grpc-js';
import { codecs, encodeStatus } from '../../pipeline/otlp/codec';
import { otlpGrpcRawServices, type ExportResponse } from '../../pipeline/otlp/grpc';
import { loadServerTls } from '../../pipeline/otlp/transport-tls';
import { SIGNALS, type Signal } from '../../pipeline/pdata';
import type { GrpcConfig } from './config';
import { formatHostPort, parseEndpoint } from './endpoint';
import type { Intake, Outcome } from './intake';
import { listenError } from './listen-error';

const MiB = 1024 * 1024;
function toBuffer(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

type Reply = grpc.sendUnaryData<ExportResponse | undefined>;

export class GrpcIntake {
  private server: grpc.Server | undefined;
  private bound: string | undefined;

  constructor(private readonly cfg: GrpcConfig, private readonly intake: Intake) {}

  get address(): string | undefined { return this.bound; }

  async start(): Promise<string> {
    const ep = parseEndpoint(this.cfg.endpoint);
    if (typeof ep === 'string') throw new Error(`protocols::grpc::endpoint: ${ep}`);
    const server = new grpc.Server(this.options());
    for (const signal of SIGNALS) {
      if (!this.intake.serves(signal)) continue;
      const handler: grpc.handleUnaryCall<Uint8Array, ExportResponse | undefined> = (call, callback) => { void this.export(signal, call.request, callback); };
      server.addService(otlpGrpcRawServices[signal], { Export: handler });
    }
    const creds = await this.credentials();
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(formatHostPort(ep.host, ep.port), creds, (err, p) => (err ? reject(listenError(this.cfg.endpoint, err)) : resolve(p)));
    });
    this.server = server;
    this.bound = formatHostPort(ep.host, port);
    return this.bound;
  }

  /** Stops taking calls at once; in-flight calls finish within timeoutMs, then are cut. */
  async stop(timeoutMs: number): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { server.forceShutdown(); resolve(); }, timeoutMs);
      server.tryShutdown(() => { clearTimeout(timer); resolve(); });
    });
  }

  private options(): grpc.ServerOptions {
    const opts: grpc.ServerOptions = { 'grpc.max_receive_message_length': Math.floor(this.cfg.max_recv_msg_size_mib * MiB) };
    if (this.cfg.max_concurrent_streams > 0) opts['grpc.max_concurrent_streams'] = this.cfg.max_concurrent_streams;
    return opts;
  }

  private async credentials(): Promise<grpc.ServerCredentials> {
    if (!this.cfg.tls) return grpc.ServerCredentials.createInsecure();
    const tls = await loadServerTls(this.cfg.tls);
    if (!tls.cert || !tls.key) throw new Error('protocols::grpc::tls: cert_file and key_file are required');
    // A client CA turns on mutual TLS: the client must present a certificate signed by it.
    return grpc.ServerCredentials.createSsl(tls.clientCa ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], tls.clientCa !== undefined);
  }

  private async export(signal: Signal, request: Uint8Array, callback: Reply): Promise<void> {
    // grpc-js has read (and inflated) the message already: bound what the pipeline holds.
    const reservation = this.intake.admit(signal, 'grpc', request.byteLength);
    if (!reservation) {
      callback(refusal(this.intake.admissionRefusal()));
      return;
    }
    try {
      await this.decodeAndDeliver(signal, request, callback);
    } finally {
      reservation.release();
    }
  }

  private async decodeAndDeliver(signal: Signal, request: Uint8Array, callback: Reply): Promise<void> {
    let data;
    try {
      data = codecs[signal].decodeRequest(request);
    } catch (err) {
      this.intake.malformed(signal, 'grpc');
      callback(statusError(grpc.status.INVALID_ARGUMENT, `cannot decode the ${signal} request: ${(err as Error).message}`));
      return;
    }
    const outcome = await this.intake.deliver(signal, data);
    if (outcome.kind === 'accepted') callback(null, undefined);
    else callback(refusal(outcome));
  }
}

function refusal(outcome: Exclude<Outcome, { kind: 'accepted' }>): Partial<grpc.StatusObject> {
  if (outcome.kind === 'invalid') return statusError(grpc.status.INVALID_ARGUMENT, outcome.message);
  // Retryable, never INTERNAL: the sender backs off and tries again; RetryInfo says how long.
  return statusError(grpc.status.UNAVAILABLE, outcome.message, outcome.retryAfterMs);
}

function statusError(code: grpc.status, details: string, retryAfterMs?: number): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (retryAfterMs !== undefined) metadata.set('grpc-status-details-bin', toBuffer(encodeStatus(code, details, retryAfterMs)));
  return { code, details, metadata };
}
