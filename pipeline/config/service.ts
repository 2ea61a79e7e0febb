// The service section: pipelines (ids, references, signals, connector rules, cycles),
// service.extensions, telemetry and the drain deadline; then "unused" warnings.
import type { ConnectorFactory, Factory, Kind } from '../component';
import { SIGNALS, type Signal } from '../pdata';
import type { Diagnostics } from './diagnostics';
import { parseId, SECTION_OF } from './ids';
import { describeNode, type Entry, type MapNode, type Node } from './positions';
import { readConfig, s } from './schema';
import { nearest } from './suggest';
import { readTelemetry } from './telemetry';
import type { LoadedConfig, PipelineConfig, Position } from './types';

/** What the component sections defined, for references from the service section. */
export interface Defined {
  /** Every id written in a section, valid or not: a reference to it is not "undefined". */
  ids: Record<Kind, Map<string, Position>>;
  /** The factory of each id whose type resolved. */
  factories: Record<Kind, Map<string, Factory>>;
}

type Service = LoadedConfig['service'];
const SERVICE_KEYS = ['extensions', 'pipelines', 'telemetry', 'shutdown_timeout'];
const PIPELINE_KEYS = ['receivers', 'processors', 'exporters'] as const;
const DEFAULT_SHUTDOWN = '10s';

interface Ref { id: string; pos: Position }
interface Refs { receivers: Ref[]; processors: Ref[]; exporters: Ref[] }
/** A pipeline with where each of its ids was written; no config when its id is invalid. */
interface Parsed { config?: PipelineConfig; refs: Refs }
interface Wired { config: PipelineConfig; refs: Refs }
interface Use { pipeline: PipelineConfig; pos: Position }

export function readService(root: MapNode, defined: Defined, diags: Diagnostics, top: Position): Service {
  const entry = root.entries.get('service');
  const map = entry ? asMap(entry, diags, 'service') : undefined;
  if (map) checkKeys(map, SERVICE_KEYS, diags, 'service', 'service key');

  const pipelinesEntry = map?.entries.get('pipelines');
  if (!entry) diags.error('missing section "service": at least one pipeline is required', top);
  else if (map && !pipelinesEntry) diags.error('missing required key "pipelines": at least one pipeline is required', entry.keyPos, 'service');
  const parsed = pipelinesEntry ? readPipelines(pipelinesEntry, defined, diags) : [];
  const wired = parsed.filter((p): p is Wired => p.config !== undefined);
  const pipelines = wired.map((p) => p.config);

  const extEntry = map?.entries.get('extensions');
  const extensions = extEntry ? readRefs(extEntry, diags, 'service::extensions', 'extensions').map((r) => r.id) : [];
  if (extEntry) checkExtensionRefs(extEntry, defined, diags);

  const telemetry = readTelemetry(map?.entries.get('telemetry'), diags);
  const shutdownTimeoutMs = readShutdownTimeout(map?.entries.get('shutdown_timeout'), diags);

  checkConnectors(wired, defined, diags);
  warnUnused(parsed, extensions, defined, diags);
  return { pipelines, extensions, telemetry, shutdownTimeoutMs };
}

/** A mapping, or undefined after an error; an empty value is an empty mapping. */
function asMap(entry: Entry, diags: Diagnostics, componentId: string): MapNode | undefined {
  const v = entry.value;
  if (v.kind === 'map') return v;
  if (v.kind === 'scalar' && v.value === null) return { kind: 'map', pos: v.pos, entries: new Map() };
  diags.error(`expected a mapping, got ${describeNode(v)}`, v.pos, componentId);
  return undefined;
}

function checkKeys(map: MapNode, allowed: readonly string[], diags: Diagnostics, componentId: string, what: string): void {
  for (const [key, e] of map.entries) {
    if (allowed.includes(key)) continue;
    const hint = nearest(key, allowed);
    diags.error(`unknown ${what} "${key}"` + (hint ? ` (did you mean "${hint}"?)` : `; valid keys: ${allowed.join(', ')}`), e.keyPos, componentId);
  }
}

/** A list of ids; each must be a string and appear once. */
function readRefs(entry: Entry, diags: Diagnostics, componentId: string, label: string): Ref[] {
  const v = entry.value;
  if (v.kind === 'scalar' && v.value === null) return [];
  if (v.kind !== 'seq') {
    diags.error(`${label}: expected a list of ids, got ${describeNode(v)}`, v.pos, componentId);
    return [];
  }
  const out: Ref[] = [];
  v.items.forEach((item, i) => {
    if (item.kind !== 'scalar' || typeof item.value !== 'string' || item.value === '') {
      diags.error(`${label}[${i}]: expected a component id, got ${describeNode(item)}`, item.pos, componentId);
    } else if (out.some((r) => r.id === item.value)) {
      diags.error(`${label}[${i}]: "${item.value}" is listed more than once`, item.pos, componentId);
    } else {
      out.push({ id: item.value, pos: item.pos });
    }
  });
  return out;
}

function readPipelines(entry: Entry, defined: Defined, diags: Diagnostics): Parsed[] {
  const map = asMap(entry, diags, 'service::pipelines');
  if (!map) return [];
  if (map.entries.size === 0) diags.error('expected at least one pipeline', entry.value.pos, 'service::pipelines');
  const out: Parsed[] = [];
  for (const [id, e] of map.entries) {
    const p = readPipeline(id, e, defined, diags);
    if (p) out.push(p);
  }
  return out;
}

function readPipeline(id: string, entry: Entry, defined: Defined, diags: Diagnostics): Parsed | undefined {
  const componentId = `service::pipelines::${id}`;
  const signal = pipelineSignal(id, entry, diags, componentId);
  // The body is read even under a bad id: its errors count, and its ids are not "unused".
  const map = asMap(entry, diags, componentId);
  if (!map) return undefined;
  checkKeys(map, PIPELINE_KEYS, diags, componentId, 'pipeline key');

  const lists: Refs = { receivers: [], processors: [], exporters: [] };
  for (const key of PIPELINE_KEYS) {
    const e = map.entries.get(key);
    if (e) lists[key] = readRefs(e, diags, componentId, key);
    if (key === 'processors') continue;
    if (!e) diags.error(`missing required key "${key}" (a non-empty list of ids)`, entry.keyPos, componentId);
    else if (lists[key].length === 0 && (e.value.kind === 'seq' ? e.value.items.length === 0 : e.value.kind === 'scalar' && e.value.value === null)) {
      diags.error(`${key}: expected at least one id`, e.value.pos, componentId);
    }
  }
  for (const r of lists.receivers) checkRef(r, ['receiver', 'connector'], signal, defined, diags, componentId);
  for (const r of lists.processors) checkRef(r, ['processor'], signal, defined, diags, componentId);
  for (const r of lists.exporters) checkRef(r, ['exporter', 'connector'], signal, defined, diags, componentId);
  if (!signal) return { refs: lists };
  const ids = (refs: Ref[]) => refs.map((r) => r.id);
  const config = { id, signal, receivers: ids(lists.receivers), processors: ids(lists.processors), exporters: ids(lists.exporters), position: entry.keyPos };
  return { config, refs: lists };
}

/** The signal named by a pipeline id (`traces/edge` -> traces), or undefined after an error. */
function pipelineSignal(id: string, entry: Entry, diags: Diagnostics, componentId: string): Signal | undefined {
  const parsed = parseId(id);
  if (typeof parsed === 'string') {
    diags.error(parsed, entry.keyPos, componentId);
    return undefined;
  }
  if ((SIGNALS as readonly string[]).includes(parsed.type)) return parsed.type as Signal;
  const hint = nearest(parsed.type, SIGNALS);
  diags.error(`unknown signal "${parsed.type}"` + (hint ? ` (did you mean "${hint}"?)` : `; expected one of ${SIGNALS.join(', ')}`), entry.keyPos, componentId);
  return undefined;
}

/** The id must be defined in one of the kinds; a receiver/processor/exporter must support the signal. */
function checkRef(ref: Ref, kinds: readonly Kind[], signal: Signal | undefined, defined: Defined, diags: Diagnostics, componentId: string): void {
  const kind = kinds.find((k) => defined.ids[k].has(ref.id));
  if (!kind) {
    const hint = nearest(ref.id, kinds.flatMap((k) => [...defined.ids[k].keys()]));
    diags.error(`references ${kinds[0]} "${ref.id}", which is not defined` + (hint ? ` (did you mean "${hint}"?)` : ''), ref.pos, componentId);
    return;
  }
  if (kind === 'connector' || kind === 'extension' || !signal) return;
  const f = defined.factories[kind].get(ref.id) as { signals?: Partial<Record<Signal, unknown>> } | undefined;
  if (f?.signals && f.signals[signal] === undefined) {
    const supported = SIGNALS.filter((sig) => f.signals![sig] !== undefined);
    diags.error(`${kind} "${ref.id}" does not support ${signal}` + (supported.length ? ` (it supports ${supported.join(', ')})` : ''), ref.pos, componentId);
  }
}

function connects(f: ConnectorFactory | undefined, from: Signal, to: Signal): boolean {
  return f === undefined || f.connects.some((c) => c.from === from && c.to === to);
}

/**
 * A connector must be used as both exporter and receiver, and, as in the Collector, every use
 * must pair with at least one use on the other side whose signals it connects. Pipelines joined
 * through connectors must not form a cycle.
 */
function checkConnectors(pipelines: Wired[], defined: Defined, diags: Diagnostics): void {
  const uses = new Map<string, { exp: Use[]; rcv: Use[] }>();
  const useOf = (id: string) => uses.get(id) ?? uses.set(id, { exp: [], rcv: [] }).get(id)!;
  for (const { config, refs } of pipelines) {
    for (const r of refs.exporters) if (isConnector(r.id, defined)) useOf(r.id).exp.push({ pipeline: config, pos: r.pos });
    for (const r of refs.receivers) if (isConnector(r.id, defined)) useOf(r.id).rcv.push({ pipeline: config, pos: r.pos });
  }
  for (const [id, { exp, rcv }] of uses) {
    const f = defined.factories.connector.get(id) as ConnectorFactory | undefined;
    const pairs = f ? f.connects.map((c) => `${c.from} -> ${c.to}`).join(', ') : '';
    if (rcv.length === 0) {
      for (const u of exp) diags.error(`connector "${id}" is used as an exporter but no pipeline uses it as a receiver`, u.pos, pipelineId(u));
      continue;
    }
    if (exp.length === 0) {
      for (const u of rcv) diags.error(`connector "${id}" is used as a receiver but no pipeline uses it as an exporter`, u.pos, pipelineId(u));
      continue;
    }
    for (const u of exp) {
      if (rcv.some((r) => connects(f, u.pipeline.signal, r.pipeline.signal))) continue;
      diags.error(`connector "${id}" cannot send ${u.pipeline.signal} to any pipeline that uses it as a receiver (${signalsOf(rcv)}); it connects ${pairs}`, u.pos, pipelineId(u));
    }
    for (const u of rcv) {
      if (exp.some((e) => connects(f, e.pipeline.signal, u.pipeline.signal))) continue;
      diags.error(`connector "${id}" cannot receive ${u.pipeline.signal} from any pipeline that uses it as an exporter (${signalsOf(exp)}); it connects ${pairs}`, u.pos, pipelineId(u));
    }
  }
  findCycles(pipelines.map((p) => p.config), uses, defined, diags);
}

function isConnector(id: string, defined: Defined): boolean {
  return defined.ids.connector.has(id) && !defined.ids.receiver.has(id) && !defined.ids.exporter.has(id);
}

const pipelineId = (u: Use): string => `service::pipelines::${u.pipeline.id}`;
const signalsOf = (list: Use[]): string => [...new Set(list.map((u) => u.pipeline.signal))].join(', ');

interface Edge { to: PipelineConfig; via: string; pos: Position }

/** Depth-first search over pipelines joined by connectors; each back edge closes one cycle. */
function findCycles(pipelines: PipelineConfig[], uses: Map<string, { exp: Use[]; rcv: Use[] }>, defined: Defined, diags: Diagnostics): void {
  const edges = new Map<PipelineConfig, Edge[]>(pipelines.map((p) => [p, []]));
  for (const [id, { exp, rcv }] of uses) {
    const f = defined.factories.connector.get(id) as ConnectorFactory | undefined;
    for (const e of exp) {
      for (const r of rcv) {
        if (connects(f, e.pipeline.signal, r.pipeline.signal)) edges.get(e.pipeline)!.push({ to: r.pipeline, via: id, pos: e.pos });
      }
    }
  }
  const state = new Map<PipelineConfig, 'open' | 'done'>();
  const stack: { p: PipelineConfig; via?: string }[] = [];
  const visit = (p: PipelineConfig): void => {
    state.set(p, 'open');
    for (const e of edges.get(p)!) {
      if (state.get(e.to) === 'open') {
        const from = stack.findIndex((x) => x.p === e.to);
        const loop = [...stack.slice(from).map((x, i) => (i === 0 ? x.p.id : `${x.via} -> ${x.p.id}`)), `${e.via} -> ${e.to.id}`];
        diags.error(`pipelines form a cycle through connectors: ${loop.join(' -> ')}`, e.pos, `service::pipelines::${p.id}`);
      } else if (!state.has(e.to)) {
        stack.push({ p: e.to, via: e.via });
        visit(e.to);
        stack.pop();
      }
    }
    state.set(p, 'done');
  };
  for (const p of pipelines) {
    if (state.has(p)) continue;
    stack.push({ p });
    visit(p);
    stack.pop();
  }
}

function checkExtensionRefs(entry: Entry, defined: Defined, diags: Diagnostics): void {
  if (entry.value.kind !== 'seq') return;
  for (const item of entry.value.items) {
    if (item.kind !== 'scalar' || typeof item.value !== 'string' || defined.ids.extension.has(item.value)) continue;
    const hint = nearest(item.value, [...defined.ids.extension.keys()]);
    diags.error(`extension "${item.value}" is not defined` + (hint ? ` (did you mean "${hint}"?)` : ''), item.pos, 'service::extensions');
  }
}

function readShutdownTimeout(entry: Entry | undefined, diags: Diagnostics): number {
  const schema = s.duration({ default: DEFAULT_SHUTDOWN });
  if (!entry) return schema.fallback!();
  const { value, issues } = readConfig(schema, toValue(entry.value));
  diags.issues(entry, issues, 'service::shutdown_timeout');
  return value;
}

function toValue(n: Node): unknown {
  return n.kind === 'scalar' ? n.value : n.kind === 'seq' ? [] : {};
}

/** Defined but not wired: still validated (above), and worth a warning. */
function warnUnused(pipelines: Parsed[], extensions: string[], defined: Defined, diags: Diagnostics): void {
  const used = new Set<string>();
  // An id both a connector and a receiver/exporter is an error already; count it used as both.
  for (const { refs } of pipelines) {
    for (const { id } of refs.receivers) used.add(`receiver:${id}`).add(`connector:${id}`);
    for (const { id } of refs.processors) used.add(`processor:${id}`);
    for (const { id } of refs.exporters) used.add(`exporter:${id}`).add(`connector:${id}`);
  }
  for (const kind of ['receiver', 'processor', 'exporter', 'connector'] as const) {
    for (const [id, pos] of defined.ids[kind]) {
      if (!used.has(`${kind}:${id}`)) diags.warning('unused: no pipeline uses it', pos, `${SECTION_OF[kind]}::${id}`);
    }
  }
  for (const [id, pos] of defined.ids.extension) {
    if (!extensions.includes(id)) diags.warning('unused: not listed in service.extensions', pos, `extensions::${id}`);
  }
}
