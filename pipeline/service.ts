// The running service: extensions, then the graph started downstream-first (exporters before
// the processors that feed them, receivers last). Shutdown, within one drain deadline:
// receivers stop intake first, then the rest upstream-first so every component flushes into
// neighbours that are still running, then receivers answer their last in-flight requests.
import type {
  Component, ComponentStats, ComponentTelemetry, ExtensionFactory, GraphDescription, Host, Kind, Settings,
} from './component';
import { isPipelineWatcher } from './component';
import type { LoadedConfig } from './config/types';
import { ComponentError, errorMessage } from './errors';
import { Graph } from './graph';
import type { Logger } from './logger';

/** What the service needs from self-telemetry (pipeline/telemetry implements it). */
export interface TelemetryProvider {
  forComponent(id: string, kind: Kind): ComponentTelemetry;
  snapshot(): ComponentStats[];
  start(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface ServiceOptions {
  config: LoadedConfig;
  logger: Logger;
  telemetry: TelemetryProvider;
  buildInfo: { command: string; version: string };
}

interface Running { label: string; kind: Kind; component: Component }

export class Service implements Host {
  private readonly logger: Logger;
  private readonly extensions = new Map<string, Component>();
  private graph: Graph | undefined;
  private started: Running[] = [];
  private shutdownPromise: Promise<boolean> | undefined;
  private fatal: ((err: ComponentError) => void) | undefined;
  /** Resolves with the first fatal error a component reports after start. */
  readonly fatalError: Promise<ComponentError>;

  constructor(private readonly options: ServiceOptions) {
    this.logger = options.logger;
    this.fatalError = new Promise((resolve) => { this.fatal = resolve; });
  }

  /** Builds and starts everything; on failure, stops what started and rethrows with the component id. */
  async start(): Promise<void> {
    const { config } = this.options;
    await this.options.telemetry.start();
    try {
      for (const id of config.service.extensions) {
        const cfg = config.extensions.get(id)!;
        const component = (cfg.factory as ExtensionFactory).create(this.settings(id, 'extension'), cfg.config);
        this.extensions.set(id, component);
        await this.startOne(`extensions::${id}`, 'extension', component);
      }
      this.graph = Graph.build(config, (id, kind) => this.settings(id, kind));
      for (const node of [...this.graph.nodes].reverse()) {
        await this.startOne(`${node.kind}s::${node.id}`, node.kind, node.component);
      }
    } catch (err) {
      await this.shutdown();
      throw err;
    }
    for (const ext of this.extensions.values()) if (isPipelineWatcher(ext)) ext.ready();
    this.logger.info('everything is ready; begin running and processing data', {
      pipelines: config.service.pipelines.length, components: this.started.length,
    });
  }

  private async startOne(label: string, kind: Kind, component: Component): Promise<void> {
    try {
      await component.start(this);
    } catch (err) {
      throw new ComponentError(label, `failed to start: ${errorMessage(err)}`, { cause: err });
    }
    // A shared node (one receiver for several pipelines) starts once, so list it once.
    if (!this.started.some((r) => r.component === component)) this.started.push({ label, kind, component });
  }

  /**
   * Stops intake and drains, upstream first. Returns false if the deadline passed before every
   * component finished (their names are logged). Safe to call twice: the second call waits.
   */
  shutdown(deadlineMs = this.options.config.service.shutdownTimeoutMs): Promise<boolean> {
    this.shutdownPromise ??= this.drain(deadlineMs);
    return this.shutdownPromise;
  }

  private async drain(deadlineMs: number): Promise<boolean> {
    for (const ext of this.extensions.values()) if (isPipelineWatcher(ext)) ext.notReady();
    const deadline = Date.now() + deadlineMs;
    // started[] is in start order (downstream first, receivers last): stop in reverse.
    const order = [...this.started].reverse();
    this.started = [];
    // Receivers stop intake at once, but their in-flight requests wait for the data to be
    // exported, which needs the processors behind them to flush: so they finish last.
    const receivers = order.filter((r) => r.kind === 'receiver').map((r) => ({ r, done: this.stopOne(r, deadline, deadlineMs) }));
    let complete = true;
    for (const r of order) if (r.kind !== 'receiver') complete = (await this.stopOne(r, deadline, deadlineMs)) && complete;
    for (const { done } of receivers) complete = (await done) && complete;
    await this.options.telemetry.shutdown().catch((err: unknown) => this.logger.warn('self-telemetry shutdown failed', { error: errorMessage(err) }));
    return complete;
  }

  private async stopOne({ label, component }: Running, deadline: number, deadlineMs: number): Promise<boolean> {
    const result = await withDeadline(component.shutdown(), Math.max(deadline - Date.now(), 0));
    if (result === 'timeout') {
      this.logger.error('shutdown deadline passed; component still draining', { component: label, deadline_ms: deadlineMs });
      return false;
    }
    if (result instanceof Error) this.logger.error('component failed to shut down', { component: label, error: result.message });
    return true;
  }

  // ---- Host ----------------------------------------------------------------------------------

  getExtension(id: string): Component | undefined { return this.extensions.get(id); }

  reportFatalError(componentId: string, err: unknown): void {
    const e = err instanceof ComponentError ? err : new ComponentError(componentId, errorMessage(err), { cause: err });
    this.logger.error('component reported a fatal error', { component: componentId, error: errorMessage(err) });
    this.fatal?.(e);
  }

  describe(): GraphDescription {
    const { config } = this.options;
    const components: GraphDescription['components'] = [];
    for (const section of ['receivers', 'processors', 'exporters', 'connectors', 'extensions'] as const) {
      for (const c of config[section].values()) components.push({ id: c.id, kind: c.kind, type: c.type });
    }
    return {
      configFiles: config.files,
      pipelines: config.service.pipelines.map((p) => ({
        id: p.id, signal: p.signal, receivers: p.receivers, processors: p.processors, exporters: p.exporters,
      })),
      components,
    };
  }

  stats(): ComponentStats[] { return this.options.telemetry.snapshot(); }

  private settings(id: string, kind: Kind): Settings {
    return {
      id,
      kind,
      logger: this.logger.with({ component: `${kind}s::${id}` }),
      telemetry: this.options.telemetry.forComponent(id, kind),
      buildInfo: this.options.buildInfo,
    };
  }
}

async function withDeadline(p: Promise<void>, ms: number): Promise<'ok' | 'timeout' | Error> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), ms); });
  try {
    return await Promise.race([p.then(() => 'ok' as const, (err: unknown) => (err instanceof Error ? err : new Error(String(err)))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
