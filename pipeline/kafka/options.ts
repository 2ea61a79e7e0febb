// From the shared config to the client's options: TLS material read from files (at start, so
// `sonde validate` needs no certificates), SASL, metadata retries.
import type { Logger } from '../logger';
import { loadTls } from '../otlp/transport-tls';
import type { KafkaClientOptions } from './client';
import { effectiveTls, type ClientConfig } from './config';

export async function clientOptions(c: ClientConfig, logger: Logger): Promise<KafkaClientOptions> {
  const opts: KafkaClientOptions = {
    brokers: c.brokers,
    clientId: c.client_id,
    retries: c.metadata.retry.max,
    retryBackoffMs: Math.max(1, c.metadata.retry.backoff),
    metadataMaxAgeMs: Math.max(1000, c.metadata.refresh_interval),
    logger,
  };
  const tls = effectiveTls(c);
  if (tls) {
    const m = await loadTls(tls);
    opts.tls = {
      rejectUnauthorized: !tls.insecure_skip_verify,
      minVersion: m.minVersion,
      ...(m.maxVersion ? { maxVersion: m.maxVersion } : {}),
      ...(m.ca ? { ca: m.ca } : {}),
      ...(m.cert ? { cert: m.cert, key: m.key! } : {}),
      ...(tls.server_name_override ? { servername: tls.server_name_override } : {}),
    };
  }
  const sasl = c.auth?.sasl;
  if (sasl) opts.sasl = { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password };
  return opts;
}
