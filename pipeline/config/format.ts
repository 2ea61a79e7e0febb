// How diagnostics read on a terminal: `file:line:column: severity: component: message`.
import type { Path } from './schema';
import type { Diagnostic } from './types';

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.position ? `${d.position.file}:${d.position.line}:${d.position.column}: ` : '';
  const who = d.componentId ? `${d.componentId}: ` : '';
  return `${where}${d.severity}: ${who}${d.message}`;
}

/** `protocols.grpc.endpoint`, `actions[0].key`: the path as a user finds it in the file. */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}
