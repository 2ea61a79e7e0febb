// The tracepoint receiver factory: counts (and with a return tracepoint, times) any kernel
// tracepoint per process, aggregated in the kernel.
import { receiverFactory } from '../../pipeline/component';
import { configSchema, validate, type TracepointReceiverConfig } from './config';
import { createTracepointReceiver } from './receiver';

export const tracepointReceiverFactory = receiverFactory<TracepointReceiverConfig>({
  kind: 'receiver',
  type: 'tracepoint',
  description: 'Counts hits of any kernel tracepoint per process (optionally per cgroup), with entry/return latency as an exponential histogram; aggregated in the kernel. Linux >= 5.8 with BTF; CAP_BPF + CAP_PERFMON (or root); tracefs. Overhead: OVERHEAD_TBD',
  signals: { metrics: 'development' },
  config: configSchema,
  validate,
  create: (settings, config, next) => createTracepointReceiver(settings, config, next),
});
