// The tracepoint receiver: the generic probe attached to any tracepoint by name at run time.
import * as fs from 'node:fs';

import type { Component, Settings, SignalConsumers } from '../../pipeline/component';
import { ProbeReceiver, type ProbeSpec } from '../../pipeline/ebpf/probe-runner';
import { PROBE_PROGRAMS } from '../../pipeline/ebpf/probe-stats';
import { parseTracepoint, type TracepointReceiverConfig } from './config';

const TRACEFS = '/sys/kernel/tracing/events';

/** A clear reason before libbpf's errno: "no such tracepoint" beats ENOENT. */
function checkExists(tp: string): void {
  const { category, name } = parseTracepoint(tp);
  if (!fs.existsSync(TRACEFS)) return; // tracefs not mounted yet: the feature probe mounts it and attach says more
  if (!fs.existsSync(`${TRACEFS}/${category}/${name}`)) {
    throw new Error(`unknown tracepoint ${tp} (no ${TRACEFS}/${category}/${name}; list them with: ls ${TRACEFS}/${category || ''})`);
  }
}

export function tracepointSpec(config: TracepointReceiverConfig): ProbeSpec {
  const entry = parseTracepoint(config.tracepoint);
  const ret = config.return_tracepoint ? parseTracepoint(config.return_tracepoint) : undefined;
  const [enterProg, returnProg] = PROBE_PROGRAMS.tracepoint;
  const probe = ret ? `${config.tracepoint} -> ${config.return_tracepoint ?? ''}` : config.tracepoint;
  return {
    type: 'tracepoint',
    probe: config.tracepoint,
    describe: `tracepoint ${probe}`,
    latency: ret !== undefined,
    preflight: () => {
      checkExists(config.tracepoint);
      if (config.return_tracepoint) checkExists(config.return_tracepoint);
    },
    options: [{
      name: 'tracepoint',
      kind: 'tracepoint',
      programs: PROBE_PROGRAMS.tracepoint,
      attach: (obj) => {
        const links = [obj.attachTracepoint(enterProg, entry.category, entry.name)];
        if (ret) links.push(obj.attachTracepoint(returnProg, ret.category, ret.name));
        return links;
      },
    }],
  };
}

export function createTracepointReceiver(settings: Settings, config: TracepointReceiverConfig, next: SignalConsumers): Component {
  return new ProbeReceiver(settings, config, tracepointSpec(config), next);
}
