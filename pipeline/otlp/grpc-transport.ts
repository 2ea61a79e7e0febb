// One OTLP/gRPC Export call per batch on a grpc-js channel, and the OTLP spec's classification of
// the answer: retryable codes become RetryableError (with RetryInfo's delay), others permanent.
// The otlp exporter and the jaeger exporter's otlp_grpc protocol both send through this.
import * as grpc from '@grpc/grpc-js';
import { createSecureContext } from 'node:tls';
import type { Settings } from '../component';
import { errorMessage, PermanentError, RetryableError } from '../errors';
import type { Signal, SignalData } from '../pdata';
import { codecs, decodeStatus } from './codec';
import { otlpGrpcRawServices, type ExportResponse } from './grpc';
import type { PartialSuccess, Transport } from './transport-exporter';
import { loadClientTls, type ClientTlsConfig } from './transport-tls';

/** The config keys a gRPC sender reads (the Collector's configgrpc names). */
export interface GrpcClientConfig {
  /** host:port; an http:// prefix means plaintext, https:// means TLS. */
  endpoint: string;
  headers: Record<string, string>;
  tls: ClientTlsConfig;
  compression: 'gzip' | 'none';
  /** Milliseconds: each call's deadline. */
  timeout: number;
}

/** Where to connect and whether over TLS, from `endpoint` and `tls.insecure`. */
export interface Target { address: string; secure: boolean }

export function target(config: { endpoint: string; tls: { insecure: boolean } }): Target | string {
  const m = /^(?:(https?):\/\/)?([^/]+?)\/?$/.exec(config.endpoint.trim());
  if (!m || !/^(?:\[[^\]]+\]|[^:[\]]+):\d{1,5}$/.test(m[2]!)) {
    return `expected host:port (optionally with http:// or https://), got "${config.endpoint}"`;
  }
  const secure = m[1] === 'https' ? true : m[1] === 'http' ? false : !config.tls.insecure;
  return { address: m[2]!, secure };
}

/** Retryable per the OTLP spec; RESOURCE_EXHAUSTED only when the server sent RetryInfo. */
const RETRYABLE = new Set([
  grpc.status.CANCELLED, grpc.status.DEADLINE_EXCEEDED, grpc.status.ABORTED,
  grpc.status.OUT_OF_RANGE, grpc.status.UNAVAILABLE, grpc.status.DATA_LOSS,
]);

const GZIP = 2; // grpc-js CompressionAlgorithms.gzip
const MAX_RECONNECT_BACKOFF_MS = 5000;

export class GrpcTransport implements Transport {
  private client: grpc.Client | undefined;
  private readonly metadata = new grpc.Metadata();

  constructor(private readonly settings: Settings, private readonly config: GrpcClientConfig) {}

  async start(): Promise<void> {
    const t = target(this.config);
    if (typeof t === 'string') throw new PermanentError(`${this.settings.id}: endpoint: ${t}`);
    for (const [k, v] of Object.entries(this.config.headers)) {
      try {
        this.metadata.add(k.toLowerCase(), v);
      } catch (err) {
        // grpc-js refuses "-bin" keys with text values and characters headers cannot carry.
        throw new PermanentError(`${this.settings.id}: headers: ${errorMessage(err)}`);
      }
    }
    const options: grpc.ChannelOptions = {
      'grpc.primary_user_agent': `${this.settings.buildInfo.command}/${this.settings.buildInfo.version}`,
      // Batches can exceed the 4 MiB default the receiving side may allow; let the server judge.
      'grpc.max_send_message_length': -1,
      // retry_on_failure already backs off; grpc-js's own reconnect backoff (up to 120 s) would
      // only delay delivery long after the backend is back.
      'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MS,
    };
    if (this.config.compression === 'gzip') options['grpc.default_compression_algorithm'] = GZIP;
    const name = this.config.tls.server_name_override;
    if (t.secure && name) {
      options['grpc.ssl_target_name_override'] = name;
      options['grpc.default_authority'] = name;
    }
    this.client = new grpc.Client(t.address, t.secure ? await this.credentials() : grpc.credentials.createInsecure(), options);
  }

  private async credentials(): Promise<grpc.ChannelCredentials> {
    const context = createSecureContext(await loadClientTls(this.settings.id, this.config.tls));
    const skip = this.config.tls.insecure_skip_verify;
    return grpc.credentials.createFromSecureContext(context, skip ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {});
  }

  send<S extends Signal>(signal: S, data: SignalData[S]): Promise<PartialSuccess> {
    const client = this.client;
    if (!client) return Promise.reject(new RetryableError('not started'));
    const request = (codecs[signal].encodeRequest as (d: SignalData[S]) => Uint8Array)(data);
    const method = otlpGrpcRawServices[signal].Export as grpc.MethodDefinition<Uint8Array, ExportResponse | undefined>;
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, this.metadata.clone(),
        { deadline: Date.now() + this.config.timeout },
        (err, response) => (err ? reject(classify(err)) : resolve(response ?? { rejected: 0, message: '' })));
    });
  }

  async close(): Promise<void> {
    this.client?.close();
    this.client = undefined;
  }
}

/** An rpc error worded as grpc-go words it, classified once here. */
export function classify(err: grpc.ServiceError): Error {
  const message = `rpc error: code = ${codeName(err.code)} desc = ${err.details}`;
  const retryAfterMs = retryInfo(err);
  if (RETRYABLE.has(err.code) || (err.code === grpc.status.RESOURCE_EXHAUSTED && retryAfterMs !== undefined)) {
    return new RetryableError(message, { cause: err, retryAfterMs });
  }
  return new PermanentError(message, { cause: err });
}

function retryInfo(err: grpc.ServiceError): number | undefined {
  const details = err.metadata?.get('grpc-status-details-bin')[0];
  if (!Buffer.isBuffer(details)) return undefined;
  try {
    return decodeStatus(details).retryAfterMs;
  } catch {
    return undefined; // unreadable details: classify by the code alone
  }
}

function codeName(code: grpc.status): string {
  // grpc.status.DEADLINE_EXCEEDED -> DeadlineExceeded, as the Collector logs it.
  const name = grpc.status[code] ?? String(code);
  return name.toLowerCase().replace(/(^|_)([a-z])/g, (_, __: string, c: string) => c.toUpperCase());
}
