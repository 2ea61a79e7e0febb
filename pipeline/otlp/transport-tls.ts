// TLS settings with the Collector's configtls names, shared by the OTLP receiver (server side)
// and the OTLP exporters (client side). Files are read at start(), never at config time, so
// `sonde validate` does not need the certificates.
import { readFile } from 'node:fs/promises';
import type { SecureVersion } from 'node:tls';
import { error, s, type ConfigIssue, type Infer, type Path } from '../config/schema';
import { errorMessage, PermanentError } from '../errors';

const VERSIONS = ['1.0', '1.1', '1.2', '1.3'] as const;
const NODE_VERSION: Record<(typeof VERSIONS)[number], SecureVersion> = { '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' };

const common = {
  ca_file: s.string({ default: '' }),
  ca_pem: s.string({ default: '' }),
  cert_file: s.string({ default: '' }),
  cert_pem: s.string({ default: '' }),
  key_file: s.string({ default: '' }),
  key_pem: s.string({ default: '' }),
  min_version: s.enum(VERSIONS, { default: '1.2' }),
  max_version: s.optional(s.enum(VERSIONS)),
};

const ignored = {
  reload_interval: 'certificates are read once at start',
  cipher_suites: 'Node chooses the cipher suites',
  include_system_ca_certs_pool: 'the system pool is used when no CA is given',
  curve_preferences: 'Node chooses the curves',
};

export const serverTlsSchema = s.object({ ...common, client_ca_file: s.string({ default: '' }) }, { ignored: { ...ignored, client_ca_file_reload: 'certificates are read once at start' } });
export type ServerTlsConfig = Infer<typeof serverTlsSchema>;

export const clientTlsSchema = s.object({
  ...common,
  insecure: s.bool({ default: false }),
  insecure_skip_verify: s.bool({ default: false }),
  server_name_override: s.string({ default: '' }),
}, { ignored });
export type ClientTlsConfig = Infer<typeof clientTlsSchema>;

type Common = { [K in keyof typeof common]: Infer<(typeof common)[K]> };

/** cert and key go together; a file and its inline PEM exclude each other. */
export function validateTls(tls: Common, path: Path): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const what of ['ca', 'cert', 'key'] as const) {
    if (tls[`${what}_file`] && tls[`${what}_pem`]) issues.push(error(path, `${what}_file and ${what}_pem are exclusive`));
  }
  const hasCert = !!(tls.cert_file || tls.cert_pem);
  const hasKey = !!(tls.key_file || tls.key_pem);
  if (hasCert !== hasKey) issues.push(error(path, 'cert_file and key_file must be given together'));
  return issues;
}

export function hasServerCert(tls: ServerTlsConfig): boolean {
  return !!(tls.cert_file || tls.cert_pem);
}

/** What node:tls and grpc-js both take; a key is present only when set. */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  minVersion: SecureVersion;
  maxVersion?: SecureVersion;
}

async function pem(file: string, inline: string, what: string): Promise<Buffer | undefined> {
  if (inline) return Buffer.from(inline);
  if (!file) return undefined;
  try {
    return await readFile(file);
  } catch (err) {
    throw new Error(`read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

export async function loadTls(tls: Common): Promise<TlsMaterial> {
  const out: TlsMaterial = { minVersion: NODE_VERSION[tls.min_version] };
  const ca = await pem(tls.ca_file, tls.ca_pem, 'ca_file');
  const cert = await pem(tls.cert_file, tls.cert_pem, 'cert_file');
  const key = await pem(tls.key_file, tls.key_pem, 'key_file');
  if (ca) out.ca = ca;
  if (cert) out.cert = cert;
  if (key) out.key = key;
  if (tls.max_version) out.maxVersion = NODE_VERSION[tls.max_version];
  return out;
}

/** A client's material; a file that cannot be read fails start for good, naming the component. */
export async function loadClientTls(id: string, tls: ClientTlsConfig): Promise<TlsMaterial> {
  try {
    return await loadTls(tls);
  } catch (err) {
    throw new PermanentError(`${id}: tls: ${errorMessage(err)}`, { cause: err });
  }
}

/** Server material plus the client CA that turns on mutual TLS. */
export async function loadServerTls(tls: ServerTlsConfig): Promise<TlsMaterial & { clientCa?: Buffer }> {
  const out: TlsMaterial & { clientCa?: Buffer } = await loadTls(tls);
  const clientCa = await pem(tls.client_ca_file, '', 'client_ca_file');
  if (clientCa) out.clientCa = clientCa;
  return out;
}
