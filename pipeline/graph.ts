// Builds the component graph from a validated config: one instance per receiver, exporter and
// connector id (shared by every pipeline that names it), one processor instance per pipeline,
// fan-out wherever one node feeds several. Nodes come out in topological order (data flows
// from earlier to later nodes), which is the shutdown order; start is its reverse.
import type { Component, Consumer, Kind, Settings, SignalConsumers } from './component';
import type {
  ConnectorFactory, ExporterFactory, ProcessorFactory, ReceiverFactory,
} from './component';
import type { ComponentConfig, LoadedConfig, PipelineConfig } from './config/types';
import { ComponentError } from './errors';
import { fanout, type Branch } from './fanout';
import type { Signal, SignalData } from './pdata';

export interface GraphNode {
  /** Unique in the graph: `receiver:otlp`, `processor:traces/batch`, ... */
  key: string;
  /** The component id as written in the config. */
  id: string;
  kind: Kind;
  type: string;
  component: Component;
  /** Keys of the nodes this one sends data to. */
  next: string[];
}

export type SettingsFor = (id: string, kind: Kind) => Settings;

type AnyConsumer = Consumer<SignalData[Signal]>;

export class Graph {
  /** Topological order: every node comes before the nodes it feeds. */
  readonly nodes: GraphNode[];

  constructor(nodes: GraphNode[]) { this.nodes = nodes; }

  static build(config: LoadedConfig, settingsFor: SettingsFor): Graph {
    return new GraphBuilder(config, settingsFor).build();
  }
}

class GraphBuilder {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly heads = new Map<string, { consumer: AnyConsumer; targets: string[] }>();
  private readonly building = new Set<string>();

  constructor(private readonly config: LoadedConfig, private readonly settingsFor: SettingsFor) {}

  build(): Graph {
    for (const p of this.config.service.pipelines) this.pipelineHead(p);
    for (const id of this.usedIds('receivers')) if (!this.config.connectors.has(id)) this.receiver(id);
    return new Graph(topologicalOrder([...this.nodes.values()]));
  }

  private usedIds(role: 'receivers' | 'exporters'): string[] {
    const ids = new Set<string>();
    for (const p of this.config.service.pipelines) for (const id of p[role]) ids.add(id);
    return [...ids];
  }

  private pipelinesWith(role: 'receivers' | 'exporters', id: string): PipelineConfig[] {
    return this.config.service.pipelines.filter((p) => p[role].includes(id));
  }

  /** The consumer at the entrance of a pipeline: its first processor, or its exporter fan-out. */
  private pipelineHead(p: PipelineConfig): { consumer: AnyConsumer; targets: string[] } {
    const done = this.heads.get(p.id);
    if (done) return done;
    if (this.building.has(p.id)) throw new Error(`pipeline ${p.id}: connectors form a cycle`);
    this.building.add(p.id);

    const exits: Branch<SignalData[Signal]>[] = [];
    const exitKeys: string[] = [];
    for (const id of p.exporters) {
      const node = this.config.connectors.has(id) ? this.connector(id) : this.exporter(id);
      const consumer = (node.consumers as Record<string, AnyConsumer | undefined>)[p.signal];
      if (!consumer) throw new ComponentError(id, `does not accept ${p.signal} (pipeline ${p.id})`);
      exits.push({ id, consumer });
      exitKeys.push(node.key);
    }
    let consumer: AnyConsumer = fanout(p.signal, exits);
    let targets = exitKeys;
    for (const id of [...p.processors].reverse()) {
      const cfg = this.componentConfig('processors', id);
      const factory = cfg.factory as ProcessorFactory;
      const key = `processor:${p.id}/${id}`;
      const component = this.create(cfg, () => factory.create(this.settingsFor(id, 'processor'), cfg.config, p.signal, consumer));
      this.nodes.set(key, { key, id, kind: 'processor', type: cfg.type, component, next: targets });
      consumer = component as unknown as AnyConsumer;
      targets = [key];
    }
    const head = { consumer, targets };
    this.heads.set(p.id, head);
    this.building.delete(p.id);
    return head;
  }

  private exporter(id: string): { key: string; consumers: SignalConsumers } {
    const key = `exporter:${id}`;
    const existing = this.nodes.get(key);
    if (existing) return { key, consumers: (existing.component as Component & { consumers: SignalConsumers }).consumers };
    const cfg = this.componentConfig('exporters', id);
    const factory = cfg.factory as ExporterFactory;
    const signals = unique(this.pipelinesWith('exporters', id).map((p) => p.signal));
    const component = this.create(cfg, () => factory.create(this.settingsFor(id, 'exporter'), cfg.config, signals));
    this.nodes.set(key, { key, id, kind: 'exporter', type: cfg.type, component, next: [] });
    return { key, consumers: component.consumers };
  }

  private connector(id: string): { key: string; consumers: SignalConsumers } {
    const key = `connector:${id}`;
    const existing = this.nodes.get(key);
    if (existing) return { key, consumers: (existing.component as Component & { consumers: SignalConsumers }).consumers };
    const cfg = this.componentConfig('connectors', id);
    const factory = cfg.factory as ConnectorFactory;
    const { next, targets } = this.fanoutToPipelines(id);
    const from = unique(this.pipelinesWith('exporters', id).map((p) => p.signal));
    const component = this.create(cfg, () => factory.create(this.settingsFor(id, 'connector'), cfg.config, from, next));
    this.nodes.set(key, { key, id, kind: 'connector', type: cfg.type, component, next: targets });
    return { key, consumers: component.consumers };
  }

  private receiver(id: string): void {
    const key = `receiver:${id}`;
    const cfg = this.componentConfig('receivers', id);
    const factory = cfg.factory as ReceiverFactory;
    const { next, targets } = this.fanoutToPipelines(id);
    const component = this.create(cfg, () => factory.create(this.settingsFor(id, 'receiver'), cfg.config, next));
    this.nodes.set(key, { key, id, kind: 'receiver', type: cfg.type, component, next: targets });
  }

  /** For a receiver or connector id: per signal, the fan-out into every pipeline it feeds. */
  private fanoutToPipelines(id: string): { next: SignalConsumers; targets: string[] } {
    const next: Record<string, AnyConsumer> = {};
    const targets: string[] = [];
    const pipelines = this.pipelinesWith('receivers', id);
    for (const signal of unique(pipelines.map((p) => p.signal))) {
      const branches = pipelines.filter((p) => p.signal === signal).map((p) => {
        const head = this.pipelineHead(p);
        targets.push(...head.targets);
        return { id: `pipeline ${p.id}`, consumer: head.consumer };
      });
      next[signal] = fanout(signal, branches);
    }
    return { next: next as SignalConsumers, targets: unique(targets) };
  }

  private componentConfig(section: 'receivers' | 'processors' | 'exporters' | 'connectors', id: string): ComponentConfig {
    const cfg = this.config[section].get(id);
    if (!cfg) throw new Error(`${section}::${id} is not defined`);
    return cfg;
  }

  private create<C>(cfg: ComponentConfig, make: () => C): C {
    try {
      return make();
    } catch (err) {
      throw new ComponentError(`${cfg.kind}s::${cfg.id}`, `cannot create: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
}

function unique<T>(xs: T[]): T[] { return [...new Set(xs)]; }

/** Kahn's algorithm; ties keep insertion order so the result is stable. */
function topologicalOrder(nodes: GraphNode[]): GraphNode[] {
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const indegree = new Map(nodes.map((n) => [n.key, 0]));
  for (const n of nodes) for (const t of n.next) indegree.set(t, (indegree.get(t) ?? 0) + 1);
  const ready = nodes.filter((n) => indegree.get(n.key) === 0);
  const out: GraphNode[] = [];
  while (ready.length) {
    const n = ready.shift()!;
    out.push(n);
    for (const t of n.next) {
      const d = indegree.get(t)! - 1;
      indegree.set(t, d);
      if (d === 0) ready.push(byKey.get(t)!);
    }
  }
  if (out.length !== nodes.length) throw new Error('the pipeline graph has a cycle');
  return out;
}
