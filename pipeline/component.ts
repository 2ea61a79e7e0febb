// The contracts every component is written against. Components import only from pipeline/;
// pipeline/ imports no component; components.ts at the root is the one list of factories.
import type { ConfigIssue, Schema } from './config/schema';
import type { Logger } from './logger';
import type { Signal, SignalData } from './pdata';

export type Kind = 'receiver' | 'processor' | 'exporter' | 'connector' | 'extension';
export type Stability = 'development' | 'alpha' | 'beta' | 'stable' | 'deprecated';

/**
 * Receives a batch. Once the promise resolves the caller no longer owns the data. A rejection is
 * PermanentError (bad data) or anything else (retryable: back-pressure, backend down).
 */
export interface Consumer<T> {
  consume(data: T): Promise<void>;
  /** True when consume() changes the data in place: fan-out then gives it its own copy. */
  readonly mutatesData?: boolean;
}

export type SignalConsumers = { [S in Signal]?: Consumer<SignalData[S]> };

/**
 * start() returns once the component is ready (listening, connected); background work runs on
 * its own. shutdown() is safe without start() and safe twice; it stops intake and flushes.
 */
export interface Component {
  start(host: Host): Promise<void>;
  shutdown(): Promise<void>;
}

export interface Host {
  /** A started extension by id (`file_storage/q`), for components that use one. */
  getExtension(id: string): Component | undefined;
  /** A component that fails after start reports here; the service shuts down with its id. */
  reportFatalError(componentId: string, err: unknown): void;
  /** A live view of the graph, for zpages. */
  describe(): GraphDescription;
  /** The standard counts of every component so far, for zpages. */
  stats(): ComponentStats[];
}

export interface ComponentStats {
  id: string;
  kind: Kind;
  /** Per signal: accepted, refused, sent, failed and dropped (by reason) item counts. */
  signals: Partial<Record<Signal, { accepted: number; refused: number; sent: number; failed: number; dropped: Record<string, number> }>>;
}

export interface GraphDescription {
  /** The config files the service was started with. */
  configFiles?: string[];
  pipelines: { id: string; signal: Signal; receivers: string[]; processors: string[]; exporters: string[] }[];
  components: { id: string; kind: Kind; type: string }[];
}

/** Standard self-metrics, counted per batch (never per item). */
export interface ComponentTelemetry {
  accepted(signal: Signal, items: number): void;
  refused(signal: Signal, items: number): void;
  dropped(signal: Signal, items: number, reason: string): void;
  sent(signal: Signal, items: number): void;
  failed(signal: Signal, items: number): void;
  /** A gauge read on collection (queue sizes, in-flight items). */
  observeGauge(name: string, description: string, read: () => number): void;
  /** A counter for component-specific events (`lost_records`, ...) with its attributes. */
  count(name: string, value: number, attributes?: Record<string, string>): void;
}

/** What the engine passes to a factory besides the config. */
export interface Settings {
  /** `type` or `type/name` as written in the config. */
  readonly id: string;
  readonly kind: Kind;
  readonly logger: Logger;
  readonly telemetry: ComponentTelemetry;
  /** Build information, for user agents and resource attributes. */
  readonly buildInfo: { command: string; version: string };
}

interface FactoryBase<C> {
  readonly type: string;
  /** Other names accepted in YAML (the Collector's old and new spellings). */
  readonly aliases?: readonly string[];
  /** Old names that still load, with a deprecation warning. */
  readonly deprecatedAliases?: readonly string[];
  readonly description: string;
  readonly config: Schema<C>;
  /** Cross-field checks after the schema has read the config; paths are relative to it. */
  validate?(config: C): ConfigIssue[];
}

export interface ReceiverFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'receiver';
  readonly signals: Partial<Record<Signal, Stability>>;
  /** One instance per receiver id, whatever the number of pipelines; one consumer per signal used. */
  create(settings: Settings, config: C, next: SignalConsumers): Component;
}

export interface ProcessorFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'processor';
  readonly signals: Partial<Record<Signal, Stability>>;
  /** One instance per pipeline that lists it. */
  create<S extends Signal>(settings: Settings, config: C, signal: S, next: Consumer<SignalData[S]>): Component & Consumer<SignalData[S]>;
}

export interface ExporterFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'exporter';
  readonly signals: Partial<Record<Signal, Stability>>;
  /** One instance per exporter id, shared by the pipelines; a consumer for each signal asked. */
  create(settings: Settings, config: C, signals: readonly Signal[]): Component & { consumers: SignalConsumers };
}

export interface ConnectorFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'connector';
  /** Supported [from, to] signal pairs with their stability. */
  readonly connects: readonly { from: Signal; to: Signal; stability: Stability }[];
  /**
   * One instance per connector id. `next` holds the fan-out into the pipelines that use the
   * connector as a receiver; the result holds a consumer for each signal it is an exporter of.
   */
  create(settings: Settings, config: C, from: readonly Signal[], next: SignalConsumers): Component & { consumers: SignalConsumers };
}

export interface ExtensionFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'extension';
  readonly stability: Stability;
  create(settings: Settings, config: C): Component;
}

export type Factory = ReceiverFactory | ProcessorFactory | ExporterFactory | ConnectorFactory | ExtensionFactory;

/** Lets a factory keep its own config type while it is stored among factories of others. */
export function receiverFactory<C>(f: ReceiverFactory<C>): ReceiverFactory { return f as unknown as ReceiverFactory; }
export function processorFactory<C>(f: ProcessorFactory<C>): ProcessorFactory { return f as unknown as ProcessorFactory; }
export function exporterFactory<C>(f: ExporterFactory<C>): ExporterFactory { return f as unknown as ExporterFactory; }
export function connectorFactory<C>(f: ConnectorFactory<C>): ConnectorFactory { return f as unknown as ConnectorFactory; }
export function extensionFactory<C>(f: ExtensionFactory<C>): ExtensionFactory { return f as unknown as ExtensionFactory; }

/** Extensions that want to know when pipelines are up (health_check) implement this. */
export interface PipelineWatcher {
  ready(): void;
  notReady(): void;
}

export function isPipelineWatcher(c: unknown): c is PipelineWatcher {
  return typeof (c as PipelineWatcher | undefined)?.ready === 'function' && typeof (c as PipelineWatcher).notReady === 'function';
}
