// The one list of every component Sonde ships. Adding a component = a folder + one line here.
import { forwardConnectorFactory } from './connectors/forward';
import { debugExporterFactory } from './exporters/debug';
import { fileExporterFactory } from './exporters/file';
import { kafkaExporterFactory } from './exporters/kafka';
import { jaegerExporterFactory } from './exporters/jaeger';
import { otlpExporterFactory } from './exporters/otlp';
import { otlpHttpExporterFactory } from './exporters/otlphttp';
import { prometheusExporterFactory } from './exporters/prometheus';
import { prometheusRemoteWriteExporterFactory } from './exporters/prometheusremotewrite';
import { fileStorageExtensionFactory } from './extensions/file_storage';
import { healthCheckExtensionFactory } from './extensions/health_check';
import { pprofExtensionFactory } from './extensions/pprof';
import { zpagesExtensionFactory } from './extensions/zpages';
import type { Factory } from './pipeline/component';
import { Registry } from './pipeline/registry';
import { batchProcessorFactory } from './processors/batch';
import { memoryLimiterProcessorFactory } from './processors/memory_limiter';
import { ebpfHttpReceiverFactory } from './receivers/ebpf_http';
import { kafkaReceiverFactory } from './receivers/kafka';
import { kprobeReceiverFactory } from './receivers/kprobe';
import { otlpReceiverFactory } from './receivers/otlp';
import { tracepointReceiverFactory } from './receivers/tracepoint';
import { uprobeReceiverFactory } from './receivers/uprobe';

export const factories: readonly Factory[] = [
  // receivers
  otlpReceiverFactory,
  ebpfHttpReceiverFactory,
  tracepointReceiverFactory,
  kprobeReceiverFactory,
  uprobeReceiverFactory,
  kafkaReceiverFactory,
  // processors
  memoryLimiterProcessorFactory,
  batchProcessorFactory,
  // exporters
  otlpExporterFactory,
  otlpHttpExporterFactory,
  debugExporterFactory,
  fileExporterFactory,
  kafkaExporterFactory,
  jaegerExporterFactory,
  prometheusRemoteWriteExporterFactory,
  prometheusExporterFactory,
  // connectors
  forwardConnectorFactory,
  // extensions
  healthCheckExtensionFactory,
  zpagesExtensionFactory,
  pprofExtensionFactory,
  fileStorageExtensionFactory,
];

export function defaultRegistry(): Registry {
  return new Registry(factories);
}
