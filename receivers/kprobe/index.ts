// The kprobe receiver factory: counts (and optionally times) calls of a kernel function per
// process, through fentry/fexit or kprobe/kretprobe, aggregated in the kernel.
import { receiverFactory } from '../../pipeline/component';
import { configSchema, validate, type KprobeReceiverConfig } from './config';
import { createKprobeReceiver } from './receiver';

export const kprobeReceiverFactory = receiverFactory<KprobeReceiverConfig>({
  kind: 'receiver',
  type: 'kprobe',
  description: 'Counts calls of a kernel function per process (optionally per cgroup), with entry/return latency as an exponential histogram; fentry/fexit or kprobe/kretprobe, taken best-first. Minimum kernel 5.8 with BTF; fentry/fexit need BPF trampolines (5.5+) and no kernel lockdown, kprobe/kretprobe need CONFIG_KPROBES; needs CAP_BPF + CAP_PERFMON (or root). Overhead: not measured (neither kind can attach on the test kernel); the same in-kernel aggregation as the tracepoint receiver (~0.2 us of BPF per hit)',
  signals: { metrics: 'development' },
  config: configSchema,
  validate,
  create: (settings, config, next) => createKprobeReceiver(settings, config, next),
});
