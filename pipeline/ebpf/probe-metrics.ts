// Kernel-aggregated probe series -> OTLP metrics: one resource per process, a cumulative
// monotonic call-count Sum and (with latency) a cumulative ExponentialHistogram of scale 0,
// whose base-2 buckets are exactly the kernel's log2 slots (no re-bucketing, no rounding).
import * as os from 'node:os';
import Long from 'long';

import { AggregationTemporality } from '../pdata';
import type { ExponentialHistogramDataPoint, KeyValue, Metric, MetricsData, Nanos, NumberDataPoint, ResourceMetrics } from '../pdata';
import type { ProcessInfo } from './proc';
import type { ProbeStats } from './probe-stats';

export interface SeriesSnapshot {
  process: ProcessInfo;
  /** cgroup path attribute, only when keyed per cgroup */
  cgroupPath?: string;
  stats: ProbeStats;
  start: Nanos;
}

export interface MetricNames {
  calls: string;
  duration: string;
  /** what was probed: "syscalls/sys_enter_write", "vfs_write", "/usr/lib/libssl.so.3:SSL_write" */
  probe: string;
  /** instrumentation scope name */
  scope: string;
  version: string;
  latency: boolean;
}

const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
const int = (key: string, v: number): KeyValue => ({ key, value: { intValue: v } });
const i64 = (v: bigint): Long => Long.fromString(v.toString(), false);

export const ATTR_CGROUP = 'process.linux.cgroup';
export const ATTR_PROBE = 'sonde.probe';

function resourceAttributes(p: ProcessInfo): KeyValue[] {
  const attrs = [str('host.name', os.hostname()), int('process.pid', p.pid), str('process.executable.name', p.executableName)];
  if (p.executablePath) attrs.push(str('process.executable.path', p.executablePath));
  return attrs;
}

function pointAttributes(s: SeriesSnapshot, names: MetricNames): KeyValue[] {
  const attrs = [str(ATTR_PROBE, names.probe)];
  if (s.cgroupPath !== undefined) attrs.push(str(ATTR_CGROUP, s.cgroupPath));
  return attrs;
}

function callsPoint(s: SeriesSnapshot, names: MetricNames, now: Nanos): NumberDataPoint {
  return { attributes: pointAttributes(s, names), startTimeUnixNano: s.start, timeUnixNano: now, asInt: i64(s.stats.calls), exemplars: [] };
}

/** The kernel's slots as an exponential histogram point (scale 0: bucket i = (2^i, 2^(i+1)] ns). */
export function durationPoint(s: SeriesSnapshot, names: MetricNames, now: Nanos): ExponentialHistogramDataPoint {
  const h = s.stats.hist;
  let last = h.length - 1;
  while (last >= 1 && h[last] === 0n) last--;
  const buckets = h.slice(1, last + 1);
  // count from the buckets, so count == zero + sum(buckets) even if a scrape raced an update
  const count = buckets.reduce((a, b) => a + b, h[0] ?? 0n);
  return {
    attributes: pointAttributes(s, names),
    startTimeUnixNano: s.start,
    timeUnixNano: now,
    count: i64(count),
    sum: Number(s.stats.sumNs),
    scale: 0,
    zeroCount: i64(h[0] ?? 0n),
    zeroThreshold: 0,
    positive: { offset: -1, bucketCounts: buckets.map(i64) },
    exemplars: [],
  };
}

function processMetrics(series: SeriesSnapshot[], names: MetricNames, now: Nanos): Metric[] {
  const metrics: Metric[] = [{
    name: names.calls,
    description: `Calls of ${names.probe} seen by the probe`,
    unit: '{call}',
    sum: { dataPoints: series.map((s) => callsPoint(s, names, now)), aggregationTemporality: AggregationTemporality.CUMULATIVE, isMonotonic: true },
  }];
  if (names.latency) {
    metrics.push({
      name: names.duration,
      description: `Time from entry to return of ${names.probe}`,
      unit: 'ns',
      exponentialHistogram: { dataPoints: series.map((s) => durationPoint(s, names, now)), aggregationTemporality: AggregationTemporality.CUMULATIVE },
    });
  }
  return metrics;
}

/** Groups series by process: one ResourceMetrics each. */
export function buildMetrics(series: SeriesSnapshot[], names: MetricNames, now: Nanos): MetricsData {
  const byPid = new Map<number, SeriesSnapshot[]>();
  for (const s of series) {
    const list = byPid.get(s.process.pid);
    if (list) list.push(s);
    else byPid.set(s.process.pid, [s]);
  }
  const resourceMetrics: ResourceMetrics[] = [];
  for (const list of byPid.values()) {
    resourceMetrics.push({
      resource: { attributes: resourceAttributes((list[0] as SeriesSnapshot).process) },
      scopeMetrics: [{ scope: { name: names.scope, version: names.version, attributes: [] }, metrics: processMetrics(list, names, now) }],
    });
  }
  return { resourceMetrics };
}
