// What the config loader produces and the engine consumes.
import type { Factory, Kind } from '../component';
import type { LogLevel } from '../logger';
import type { Signal } from '../pdata';

export interface Position { file: string; line: number; column: number }

export interface Diagnostic {
  severity: 'error' | 'warning';
  /** Where it is; absent only for problems with no place (a file that cannot be read). */
  position?: Position;
  /** `receivers::otlp`, `service::pipelines::traces`, ... when the problem belongs to one. */
  componentId?: string;
  message: string;
}

export interface ComponentConfig {
  /** As written: `type` or `type/name`. */
  id: string;
  kind: Kind;
  /** The factory's canonical type (an alias in YAML resolves to it). */
  type: string;
  factory: Factory;
  /** The config as the factory's schema read it, defaults applied. */
  config: unknown;
  position?: Position;
}

export interface PipelineConfig {
  /** `traces`, `traces/edge`, ... */
  id: string;
  signal: Signal;
  receivers: string[];
  processors: string[];
  exporters: string[];
  position?: Position;
}

export type TelemetryLevel = 'none' | 'basic' | 'normal' | 'detailed';

export interface TelemetryConfig {
  metrics: {
    level: TelemetryLevel;
    /** Prometheus pull endpoint host:port ('' = off). Default 127.0.0.1:8888. */
    prometheus: string;
    /** Optional OTLP push of Sonde's own metrics. */
    otlp?: { endpoint: string; protocol: 'grpc' | 'http/protobuf'; intervalMs: number; headers: Record<string, string> };
  };
  logs: { level: LogLevel };
  /** Extra resource attributes on Sonde's own telemetry. */
  resource: Record<string, string>;
}

export interface LoadedConfig {
  /** Keyed by id, per kind. Unused components are here too (validated, warned about). */
  receivers: Map<string, ComponentConfig>;
  processors: Map<string, ComponentConfig>;
  exporters: Map<string, ComponentConfig>;
  connectors: Map<string, ComponentConfig>;
  extensions: Map<string, ComponentConfig>;
  service: {
    pipelines: PipelineConfig[];
    /** Extension ids to start, in order. */
    extensions: string[];
    telemetry: TelemetryConfig;
    /** How long shutdown may take before it gives up waiting (drain deadline). */
    shutdownTimeoutMs: number;
  };
  files: string[];
}
