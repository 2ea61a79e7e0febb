// The uprobe receiver: the generic probe on a user-space function (uprobe, uretprobe for latency).
import * as fs from 'node:fs';

import type { Component, Settings, SignalConsumers } from '../../pipeline/component';
import { ProbeReceiver, type ProbeSpec } from '../../pipeline/ebpf/probe-runner';
import { PROBE_PROGRAMS } from '../../pipeline/ebpf/probe-stats';
import type { UprobeOptions } from '../../native/index';
import type { UprobeReceiverConfig } from './config';
import { resolveLibrary } from './resolve';

function targetName(config: UprobeReceiverConfig): string {
  const file = config.binary ?? config.library ?? '';
  const where = config.symbol !== undefined ? config.symbol + (config.offset ? `+0x${config.offset.toString(16)}` : '') : `0x${(config.offset ?? 0).toString(16)}`;
  return `${file}:${where}`;
}

export function uprobeSpec(config: UprobeReceiverConfig): ProbeSpec {
  // resolved in preflight, so a missing library fails start() with the receiver's id
  let binary = config.binary ?? '';
  const opts = (retprobe: boolean): UprobeOptions => {
    const o: UprobeOptions = { binary, retprobe };
    if (config.symbol !== undefined) o.symbol = config.symbol;
    if (config.offset !== undefined) o.offset = config.offset;
    if (config.pid !== undefined) o.pid = config.pid;
    return o;
  };
  const [entry, ret] = PROBE_PROGRAMS.uprobe;
  const spec: ProbeSpec = {
    type: 'uprobe',
    probe: targetName(config),
    describe: `uprobe ${targetName(config)}${config.pid !== undefined ? ` pid ${config.pid}` : ''}`,
    latency: config.latency,
    preflight: () => {
      if (config.library !== undefined) binary = resolveLibrary(config.library, config.pid);
      if (!fs.existsSync(binary)) throw new Error(`binary ${binary} does not exist`);
      if (config.pid !== undefined && !fs.existsSync(`/proc/${config.pid}`)) throw new Error(`pid ${config.pid} is not running`);
    },
    options: [{
      name: 'uprobe',
      kind: 'uprobe',
      programs: PROBE_PROGRAMS.uprobe,
      attach: (obj) => {
        const links = [obj.attachUprobe(entry, opts(false))];
        if (config.latency) links.push(obj.attachUprobe(ret, opts(true)));
        return links;
      },
    }],
  };
  if (config.pid !== undefined) spec.extraPids = [config.pid];
  return spec;
}

export function createUprobeReceiver(settings: Settings, config: UprobeReceiverConfig, next: SignalConsumers): Component {
  return new ProbeReceiver(settings, config, uprobeSpec(config), next);
}
