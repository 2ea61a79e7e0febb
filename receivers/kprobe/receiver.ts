// The kprobe receiver: the generic probe on a kernel function, through fentry/fexit (BPF
// trampolines, cheapest) or kprobe/kretprobe, whichever this kernel accepts first.
import type { Component, Settings, SignalConsumers } from '../../pipeline/component';
import { ProbeReceiver, type ProbeAttachOption, type ProbeSpec } from '../../pipeline/ebpf/probe-runner';
import { PROBE_PROGRAMS } from '../../pipeline/ebpf/probe-stats';
import type { KprobeAttach, KprobeReceiverConfig } from './config';

function option(kind: KprobeAttach, fn: string, latency: boolean): ProbeAttachOption {
  if (kind === 'fentry') {
    const [entry, ret] = PROBE_PROGRAMS.fentry;
    return {
      name: 'fentry',
      kind: 'fentry',
      programs: PROBE_PROGRAMS.fentry,
      // the verifier checks fentry programs against the function's BTF: the target comes first
      prepare: (obj) => {
        obj.setAttachTarget(entry, fn);
        if (latency) obj.setAttachTarget(ret, fn);
      },
      attach: (obj) => (latency ? [obj.attachTrace(entry), obj.attachTrace(ret)] : [obj.attachTrace(entry)]),
    };
  }
  const [entry, ret] = PROBE_PROGRAMS.kprobe;
  return {
    name: 'kprobe',
    kind: 'kprobe',
    programs: PROBE_PROGRAMS.kprobe,
    attach: (obj) => {
      const links = [obj.attachKprobe(entry, fn)];
      if (latency) links.push(obj.attachKprobe(ret, fn, { retprobe: true }));
      return links;
    },
  };
}

export function kprobeSpec(config: KprobeReceiverConfig): ProbeSpec {
  return {
    type: 'kprobe',
    probe: config.function,
    describe: `kernel function ${config.function} (attach: ${config.attach.join(' -> ')})`,
    latency: config.latency,
    options: config.attach.map((k) => option(k, config.function, config.latency)),
  };
}

export function createKprobeReceiver(settings: Settings, config: KprobeReceiverConfig, next: SignalConsumers): Component {
  return new ProbeReceiver(settings, config, kprobeSpec(config), next);
}
