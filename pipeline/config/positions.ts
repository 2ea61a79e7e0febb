// A positioned copy of a parsed YAML file: every mapping, list and scalar remembers the
// file:line:column it came from, so merged values still point at the file that set them. Env
// references are expanded here, on parsed scalars, so the positions stay those of the source.
import { isAlias, isMap, isScalar, isSeq, parse as parseYaml, type Document, type LineCounter } from 'yaml';
import type { Path } from './schema';
import type { Position } from './types';
import { expandEnv } from './env';

export type Node = MapNode | SeqNode | ScalarNode;
export interface MapNode { kind: 'map'; pos: Position; entries: Map<string, Entry> }
export interface SeqNode { kind: 'seq'; pos: Position; items: Node[] }
export interface ScalarNode { kind: 'scalar'; pos: Position; value: unknown }
/** A key with its value; the key's position is where unknown/deprecated-key messages point. */
export interface Entry { keyPos: Position; value: Node }

/** A problem found while converting, with the key path of the value it is about. */
export interface Problem { severity: 'error' | 'warning'; position: Position; path: Path; message: string }

interface Ctx {
  file: string;
  lines: LineCounter;
  doc: Document;
  env: NodeJS.ProcessEnv;
  problems: Problem[];
  depth: number;
  /** Key path of the node being converted (for the component id in messages). */
  path: (string | number)[];
}

type YNode = unknown;

/** Converts a parsed document (its contents) to positioned nodes, expanding env references. */
export function fromDocument(doc: Document, file: string, lines: LineCounter, env: NodeJS.ProcessEnv, problems: Problem[]): Node {
  const ctx: Ctx = { file, lines, doc, env, problems, depth: 0, path: [] };
  const start = { file, line: 1, column: 1 };
  return doc.contents ? convert(doc.contents, ctx, start) : { kind: 'scalar', pos: start, value: null };
}

function at(ctx: Ctx, offset: number | undefined): Position {
  const { line, col } = ctx.lines.linePos(offset ?? 0);
  return { file: ctx.file, line, column: col };
}

function rangeStart(node: YNode): number | undefined {
  return (node as { range?: [number, number, number] | null }).range?.[0];
}

function convert(node: YNode, ctx: Ctx, fallback: Position): Node {
  if (ctx.depth > 64) {
    problem(ctx, 'error', fallback, 'aliases nest too deeply');
    return { kind: 'scalar', pos: fallback, value: null };
  }
  if (isAlias(node)) {
    const target = node.resolve(ctx.doc);
    if (!target) {
      problem(ctx, 'error', at(ctx, rangeStart(node)), `unknown alias "*${node.source}"`);
      return { kind: 'scalar', pos: at(ctx, rangeStart(node)), value: null };
    }
    ctx.depth++;
    try { return convert(target, ctx, at(ctx, rangeStart(node))); } finally { ctx.depth--; }
  }
  const start = rangeStart(node);
  const pos = start === undefined ? fallback : at(ctx, start);
  if (isMap(node)) return convertMap(node.items, pos, ctx);
  if (isSeq(node)) return { kind: 'seq', pos, items: node.items.map((item, i) => within(ctx, i, () => convert(item, ctx, pos))) };
  if (isScalar(node)) return convertScalar(node.value, node.type, pos, ctx);
  return { kind: 'scalar', pos, value: null };
}

function convertMap(items: readonly { key: unknown; value: unknown }[], pos: Position, ctx: Ctx): MapNode {
  const entries = new Map<string, Entry>();
  const merged: Node[] = [];
  for (const pair of items) {
    const keyPos = rangeStart(pair.key) === undefined ? pos : at(ctx, rangeStart(pair.key));
    const key = keyText(pair.key);
    if (key === undefined) {
      problem(ctx, 'error', keyPos, 'a key must be a plain value, not a mapping or list');
      continue;
    }
    // An empty value (`grpc:`) is positioned at its key: it has no text of its own.
    const value = isEmpty(pair.value) ? { kind: 'scalar' as const, pos: keyPos, value: null } : within(ctx, key, () => convert(pair.value, ctx, keyPos));
    if (key === '<<' && isScalar(pair.key) && pair.key.type === 'PLAIN') {
      merged.push(value);
      continue;
    }
    if (entries.has(key)) {
      within(ctx, key, () => problem(ctx, 'error', keyPos, `duplicate key "${key}"`));
      continue;
    }
    entries.set(key, { keyPos, value });
  }
  // YAML merge keys (`<<: *defaults`): keys written in the mapping itself win.
  for (const m of merged.flatMap((n) => (n.kind === 'seq' ? n.items : [n]))) {
    if (m.kind !== 'map') {
      problem(ctx, 'error', m.pos, 'a merge key (<<) takes a mapping or a list of mappings');
      continue;
    }
    for (const [k, e] of m.entries) if (!entries.has(k)) entries.set(k, e);
  }
  return { kind: 'map', pos, entries };
}

function problem(ctx: Ctx, severity: Problem['severity'], position: Position, message: string): void {
  ctx.problems.push({ severity, position, path: [...ctx.path], message });
}

function within<T>(ctx: Ctx, seg: string | number, f: () => T): T {
  ctx.path.push(seg);
  try { return f(); } finally { ctx.path.pop(); }
}

function keyText(key: unknown): string | undefined {
  if (key === null || key === undefined) return '';
  if (isScalar(key)) return key.value === null ? '' : String(key.value);
  if (isAlias(key)) return undefined;
  return undefined;
}

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || (isScalar(value) && value.value === null && (value.source ?? '') === '');
}

function convertScalar(value: unknown, type: string | undefined, pos: Position, ctx: Ctx): ScalarNode {
  if (typeof value !== 'string' || !value.includes('$')) return { kind: 'scalar', pos, value };
  const x = expandEnv(value, ctx.env);
  for (const p of x.problems) problem(ctx, p.severity, pos, p.message);
  // A plain scalar that is one reference is read as YAML would read the value written there;
  // quoted and block scalars are strings by the author's choice.
  const typed = x.whole && (type === 'PLAIN' || type === undefined) ? retype(x.value) : x.value;
  return { kind: 'scalar', pos, value: typed };
}

/**
 * Numbers and booleans only, and only when nothing is lost: "0123", "1.10" or a secret that
 * happens to parse as a mapping stay strings, exactly as the variable holds them.
 */
function retype(text: string): unknown {
  let v: unknown;
  try { v = parseYaml(text); } catch { return text; }
  if ((typeof v === 'number' || typeof v === 'boolean') && String(v) === text.trim() && text.trim() === text) return v;
  return text;
}

/** The plain JS value a schema reads (objects get own properties only, even `__proto__`). */
export function toPlain(node: Node): unknown {
  switch (node.kind) {
    case 'scalar': return node.value;
    case 'seq': return node.items.map(toPlain);
    case 'map': return Object.fromEntries([...node.entries].map(([k, e]) => [k, toPlain(e.value)]));
  }
}

/**
 * Where a schema path points, relative to an entry: the value's position, or the key's when
 * asked (unknown keys). A path that leaves the written tree (a renamed key, a default) stops at
 * the deepest node that exists.
 */
export function locate(entry: Entry, path: Path, atKey = false): Position {
  let cur: Entry = entry;
  for (const seg of path) {
    const v = cur.value;
    if (v.kind === 'map' && typeof seg === 'string' && v.entries.has(seg)) {
      cur = v.entries.get(seg)!;
    } else if (v.kind === 'seq' && typeof seg === 'number' && v.items[seg]) {
      const item = v.items[seg]!;
      cur = { keyPos: item.pos, value: item };
    } else {
      return v.pos;
    }
  }
  return atKey ? cur.keyPos : cur.value.pos;
}

/** How a value reads in a message: "a list", "a mapping", "nothing", "\"x\"", 5. */
export function describeNode(node: Node): string {
  if (node.kind === 'seq') return 'a list';
  if (node.kind === 'map') return 'a mapping';
  const v = node.value;
  if (v === null || v === undefined) return 'nothing';
  return typeof v === 'string' ? `"${v}"` : String(v);
}
