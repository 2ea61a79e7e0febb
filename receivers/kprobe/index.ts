// The kprobe receiver factory: counts (and optionally times) calls of a kernel function per
// process, through fentry/fexit or kprobe/kretprobe, aggregated in the kernel.
import { receiverFactory } from '../../pipeline/component';
import { configSchema, validate, type KprobeReceiverConfig } from './config';
import { createKprobeReceiver } from './receiver';

export const kprobeReceiverFactory = receiverFactory<KprobeReceiverConfig>({
  kind: 'receiver',
  type: 'kprobe',
  description: 'Counts calls of a kernel function per process (optionally per cgroup), with entry/return latency as an exponential histogram; fentry/fexit (Linux >= 5.5, BPF trampolines, no lockdown) or kprobe/kretprobe (CONFIG_KPROBES), taken best-first. BTF; CAP_BPF + CAP_PERFMON (or root). Overhead: OVERHEAD_TBD',
  signals: { metrics: 'development' },
  config: configSchema,
  validate,
  create: (settings, config, next) => createKprobeReceiver(settings, config, next),
});
