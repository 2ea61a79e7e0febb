// The uprobe receiver factory: counts (and optionally times) calls of a user-space function per
// process, through uprobe/uretprobe, aggregated in the kernel.
import { receiverFactory } from '../../pipeline/component';
import { configSchema, validate, type UprobeReceiverConfig } from './config';
import { createUprobeReceiver } from './receiver';

export const uprobeReceiverFactory = receiverFactory<UprobeReceiverConfig>({
  kind: 'receiver',
  type: 'uprobe',
  description: 'Counts calls of a function in a user-space binary or library per process (optionally per cgroup), with uretprobe latency as an exponential histogram; aggregated in the kernel. Linux >= 5.8 with BTF; CAP_BPF + CAP_PERFMON (or root). Overhead: OVERHEAD_TBD',
  signals: { metrics: 'development' },
  config: configSchema,
  validate,
  create: (settings, config, next) => createUprobeReceiver(settings, config, next),
});
