// The config loader: read each file, parse it with positions, expand env references on parsed
// scalars, merge the files in order, read every component with its factory's schema, then the
// service section. Every problem is collected; the config comes back only when none is an error.
// Pure: it reads the files and nothing else, and creates no component.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { Kind } from '../component';
import { errorMessage } from '../errors';
import type { Registry } from '../registry';
import { Diagnostics } from './diagnostics';
import { parseId, SECTIONS, type Section } from './ids';
import { mergeNodes } from './merge';
import { describeNode, fromDocument, toPlain, type Entry, type MapNode, type Problem } from './positions';
import { readConfig, type Path } from './schema';
import { formatPath } from './format';
import { readService, type Defined } from './service';
import { nearest } from './suggest';
import type { ComponentConfig, Diagnostic, LoadedConfig } from './types';

export { formatDiagnostic } from './format';

const TOP_KEYS = [...Object.keys(SECTIONS), 'service'];

export function loadConfig(
  files: readonly string[],
  registry: Registry,
  env: NodeJS.ProcessEnv = process.env,
): { config?: LoadedConfig; diagnostics: Diagnostic[] } {
  const diags = new Diagnostics();
  if (files.length === 0) diags.error('no config file given');
  let root: MapNode | undefined;
  let unreadable = false;
  for (const file of files) {
    const node = readFile(file, env, diags);
    if (!node) { unreadable = true; continue; }
    root = root ? (mergeNodes(root, node) as MapNode) : node;
  }
  // A file that did not parse leaves nothing sound to validate; its errors say enough.
  if (unreadable || !root) return { diagnostics: diags.sorted(files) };

  for (const [key, e] of root.entries) {
    if (TOP_KEYS.includes(key)) continue;
    const hint = nearest(key, TOP_KEYS);
    diags.error(`unknown top-level key "${key}"` + (hint ? ` (did you mean "${hint}"?)` : `; valid keys: ${TOP_KEYS.join(', ')}`), e.keyPos);
  }
  const defined: Defined = { ids: byKind(() => new Map()), factories: byKind(() => new Map()) };
  const components = {} as Record<Section, Map<string, ComponentConfig>>;
  for (const section of Object.keys(SECTIONS) as Section[]) {
    components[section] = readSection(section, root.entries.get(section), registry, defined, diags);
  }
  checkAmbiguousConnectors(defined, diags);
  const service = readService(root, defined, diags, { file: files[0]!, line: 1, column: 1 });

  const diagnostics = diags.sorted(files);
  if (diags.hasErrors) return { diagnostics };
  return { config: { ...components, service, files: [...files] }, diagnostics };
}

function byKind<T>(make: () => T): Record<Kind, T> {
  return { receiver: make(), processor: make(), exporter: make(), connector: make(), extension: make() };
}

/** One file as positioned nodes; undefined when it cannot be read or parsed. */
function readFile(file: string, env: NodeJS.ProcessEnv, diags: Diagnostics): MapNode | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    diags.error(`cannot read config file "${file}": ${fsReason(err)}`);
    return undefined;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  // Duplicate keys are reported (with the key's name) while converting, below.
  const syntax = doc.errors.filter((e) => e.code !== 'DUPLICATE_KEY');
  // One error per line: the parser's follow-on complaints about the same line are noise.
  const seen = new Set<number>();
  for (const e of syntax) {
    const { line, col } = lines.linePos(e.pos[0]);
    if (seen.has(line)) continue;
    seen.add(line);
    diags.error(`invalid YAML: ${yamlMessage(e.message)}`, { file, line, column: col });
  }
  for (const w of doc.warnings) {
    const { line, col } = lines.linePos(w.pos[0]);
    diags.warning(`YAML: ${yamlMessage(w.message)}`, { file, line, column: col });
  }
  if (syntax.length > 0) return undefined;

  const problems: Problem[] = [];
  const node = fromDocument(doc, file, lines, env, problems);
  for (const p of problems) {
    const { componentId, rest } = ownerOf(p.path);
    const message = rest.length > 0 ? `${formatPath(rest)}: ${p.message}` : p.message;
    if (p.severity === 'error') diags.error(message, p.position, componentId);
    else diags.warning(message, p.position, componentId);
  }
  if (node.kind === 'map') return node;
  if (node.kind === 'scalar' && node.value === null) return { kind: 'map', pos: node.pos, entries: new Map() };
  diags.error(`expected a mapping at the top of the file, got ${describeNode(node)}`, node.pos);
  return undefined;
}

/** `receivers::otlp` and the path inside it, for a problem found at a key path of the file. */
function ownerOf(path: Path): { componentId?: string; rest: Path } {
  const [top, id, sub] = path;
  if (typeof top !== 'string' || typeof id !== 'string') return { rest: path };
  if (top === 'service') {
    return id === 'pipelines' && typeof sub === 'string'
      ? { componentId: `service::pipelines::${sub}`, rest: path.slice(3) }
      : { componentId: `service::${id}`, rest: path.slice(2) };
  }
  return top in SECTIONS ? { componentId: `${top}::${id}`, rest: path.slice(2) } : { rest: path };
}

function yamlMessage(message: string): string {
  return message.replace(/ at line \d+, column \d+[^]*$/, '');
}

function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return errorMessage(err);
}

function readSection(section: Section, entry: Entry | undefined, registry: Registry, defined: Defined, diags: Diagnostics): Map<string, ComponentConfig> {
  const out = new Map<string, ComponentConfig>();
  if (!entry) return out;
  const v = entry.value;
  if (v.kind === 'scalar' && v.value === null) return out;
  if (v.kind !== 'map') {
    diags.error(`${section}: expected a mapping of component ids to their configs, got ${describeNode(v)}`, v.pos);
    return out;
  }
  for (const [id, e] of v.entries) {
    const c = readComponent(SECTIONS[section], section, id, e, registry, defined, diags);
    if (c) out.set(id, c);
  }
  return out;
}

function readComponent(kind: Kind, section: Section, id: string, entry: Entry, registry: Registry, defined: Defined, diags: Diagnostics): ComponentConfig | undefined {
  const componentId = `${section}::${id}`;
  // Known even when invalid, so references to it do not also say "not defined".
  defined.ids[kind].set(id, entry.keyPos);
  const parsed = parseId(id);
  if (typeof parsed === 'string') {
    diags.error(parsed, entry.keyPos, componentId);
    return undefined;
  }
  const found = registry.lookup(kind, parsed.type);
  if (!found) {
    diags.error(unknownType(kind, parsed.type, registry.names(kind)), entry.keyPos, componentId);
    return undefined;
  }
  const { factory } = found;
  if (found.deprecated) diags.warning(`${kind} type "${parsed.type}" is deprecated, use "${factory.type}"`, entry.keyPos, componentId);
  defined.factories[kind].set(id, factory);

  const { value, issues } = readConfig<unknown>(factory.config, toPlain(entry.value));
  diags.issues(entry, issues, componentId);
  // Cross-field checks only make sense on a config the schema read cleanly.
  if (factory.validate && !issues.some((i) => i.severity === 'error')) {
    try {
      diags.issues(entry, factory.validate(value), componentId);
    } catch (err) {
      diags.error(`validation failed: ${errorMessage(err)}`, entry.value.pos, componentId);
    }
  }
  return { id, kind, type: factory.type, factory, config: value, position: entry.keyPos };
}

function unknownType(kind: Kind, type: string, names: readonly string[]): string {
  const hint = nearest(type, names);
  if (hint) return `unknown ${kind} type "${type}" (did you mean "${hint}"?)`;
  if (names.length === 0) return `unknown ${kind} type "${type}" (no ${kind} types are registered)`;
  return `unknown ${kind} type "${type}"; known types: ${[...names].sort().join(', ')}`;
}

/** A pipeline could not tell a connector from a receiver or exporter of the same id. */
function checkAmbiguousConnectors(defined: Defined, diags: Diagnostics): void {
  for (const [id, pos] of defined.ids.connector) {
    const other = defined.ids.receiver.has(id) ? 'receiver' : defined.ids.exporter.has(id) ? 'exporter' : undefined;
    if (other) diags.error(`ambiguous id: "${id}" is also defined as ${other === 'receiver' ? 'a receiver' : 'an exporter'}; rename one of them (e.g. "${id.split('/')[0]}/connector")`, pos, `connectors::${id}`);
  }
}
