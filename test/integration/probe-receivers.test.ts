// The generic probe receivers (tracepoint, kprobe, uprobe) through their factories and configs,
// against real programs in this kernel: exact counts per pid, latency histograms, filters by
// pid / executable / cgroup, overflow accounting, and the start failures users will meet.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { probeFeatures } from '../../native/features';
import type { FeatureReport } from '../../native/features';
import { BpfObject } from '../../native/index';
import type { ReceiverFactory } from '../../pipeline/component';
import { readConfig } from '../../pipeline/config/schema';
import { ATTR_CGROUP, ATTR_PROBE } from '../../pipeline/ebpf/probe-metrics';
import { ProbeReceiver } from '../../pipeline/ebpf/probe-runner';
import { PROBE_KEY_SIZE, PROBE_OBJECT, PROBE_STATS_SIZE } from '../../pipeline/ebpf/probe-stats';
import { cgroup2Mount } from '../../pipeline/ebpf/proc';
import type { AnyValue, ExponentialHistogramDataPoint, KeyValue, MetricsData, NumberDataPoint, ResourceMetrics } from '../../pipeline/pdata';
import { kprobeReceiverFactory } from '../../receivers/kprobe';
import { tracepointReceiverFactory } from '../../receivers/tracepoint';
import { uprobeReceiverFactory } from '../../receivers/uprobe';
import { RecordingTelemetry, testHost, testSettings } from '../helpers/component-harness';
import { buildC, ensureEbpfBuild, LATENCY_C, spawnGated, WRITER_C } from '../helpers/ebpf';

// ---- harness ---------------------------------------------------------------------------------

const host = testHost;


interface Harness {
  receiver: ProbeReceiver;
  batches: MetricsData[];
  telemetry: RecordingTelemetry;
}

function create(factory: ReceiverFactory, id: string, raw: Record<string, unknown>): Harness {
  const { value, issues } = readConfig(factory.config, raw);
  const all = [...issues, ...(factory.validate?.(value) ?? [])].filter((i) => i.severity === 'error');
  assert.deepEqual(all, [], `config of ${id}`);
  const telemetry = new RecordingTelemetry();
  const settings = testSettings(telemetry, id, 'receiver');
  const batches: MetricsData[] = [];
  const c = factory.create(settings, value, { metrics: { consume: async (d) => { batches.push(d); } } });
  assert.ok(c instanceof ProbeReceiver);
  return { receiver: c, batches, telemetry };
}

const attr = (attrs: KeyValue[] | undefined, key: string): AnyValue | undefined => attrs?.find((a) => a.key === key)?.value;
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(String(v)));

function resourceOf(batch: MetricsData, pid: number): ResourceMetrics | undefined {
  return batch.resourceMetrics.find((rm) => num(attr(rm.resource?.attributes, 'process.pid')?.intValue) === pid);
}

function callsPoints(rm: ResourceMetrics | undefined, name: string): NumberDataPoint[] {
  return rm?.scopeMetrics.flatMap((sm) => sm.metrics).find((m) => m.name === name)?.sum?.dataPoints ?? [];
}

function durationPoint(rm: ResourceMetrics | undefined, name: string): ExponentialHistogramDataPoint | undefined {
  return rm?.scopeMetrics.flatMap((sm) => sm.metrics).find((m) => m.name === name)?.exponentialHistogram?.dataPoints[0];
}

/** The last value a pid's call count reached across every pushed batch. */
function lastCalls(h: Harness, pid: number, name = 'sonde.tracepoint.calls'): number | undefined {
  let v: number | undefined;
  for (const b of h.batches) {
    const p = callsPoints(resourceOf(b, pid), name)[0];
    if (p) v = num(p.asInt);
  }
  return v;
}

async function startOrFail(h: Harness): Promise<Error> {
  try {
    await h.receiver.start(host);
  } catch (e) {
    await h.receiver.shutdown();
    return e as Error;
  }
  await h.receiver.shutdown();
  throw new Error('start() succeeded');
}

// ---- tests -----------------------------------------------------------------------------------

describe('generic probe receivers (tracepoint, kprobe, uprobe)', function () {
  let writer = '';
  let latencyBin = '';
  let report: FeatureReport;
  const running: Harness[] = [];

  before(async function () {
    ensureEbpfBuild();
    writer = buildC('writer', WRITER_C);
    latencyBin = buildC('latency', LATENCY_C);
    report = await probeFeatures();
  });

  afterEach(async function () {
    for (const h of running.splice(0)) await h.receiver.shutdown();
  });

  async function started(factory: ReceiverFactory, id: string, raw: Record<string, unknown>): Promise<Harness> {
    const h = create(factory, id, raw);
    running.push(h);
    await h.receiver.start(host);
    return h;
  }

  it('maps in bpf/probe_count.bpf.c have the layouts user space decodes', function () {
    const obj = BpfObject.open(PROBE_OBJECT);
    try {
      const m = obj.maps().find((x) => x.name === 'probe_stats');
      assert.equal(m?.keySize, PROBE_KEY_SIZE);
      assert.equal(m?.valueSize, PROBE_STATS_SIZE);
    } finally {
      obj.close();
    }
  });

  it('tracepoint: exactly the N write(2) calls of a child, for its pid, with process attributes', async function () {
    const N = 1000;
    const child = await spawnGated(writer, [String(N)]);
    try {
      const h = await started(tracepointReceiverFactory, 'tracepoint/writes', {
        tracepoint: 'syscalls/sys_enter_write', collection_interval: '200ms', filter: { pids: [child.pid] },
      });
      assert.equal(h.receiver.attachedWith, 'tracepoint');
      child.go();
      assert.equal((await child.done).code, 0);
      await h.receiver.shutdown(); // the last scrape
      assert.equal(lastCalls(h, child.pid), N);
      const rm = resourceOf(h.batches.at(-1) as MetricsData, child.pid);
      const attrs = rm?.resource?.attributes;
      assert.equal(attr(attrs, 'process.executable.name')?.stringValue, path.basename(writer).slice(0, 15));
      assert.ok(attr(attrs, 'host.name')?.stringValue);
      const p = callsPoints(rm, 'sonde.tracepoint.calls')[0] as NumberDataPoint;
      assert.equal(attr(p.attributes, ATTR_PROBE)?.stringValue, 'syscalls/sys_enter_write');
      assert.ok(num(p.startTimeUnixNano) <= num(p.timeUnixNano) && num(p.startTimeUnixNano) > 0);
      const sum = rm?.scopeMetrics[0]?.metrics[0]?.sum;
      assert.equal(sum?.isMonotonic, true);
      assert.equal(sum?.aggregationTemporality, 2);
      // only the filtered pid was aggregated
      for (const b of h.batches) assert.deepEqual(b.resourceMetrics.map((r) => num(attr(r.resource?.attributes, 'process.pid')?.intValue)), [child.pid]);
      assert.ok(h.telemetry.total('accepted') >= 1);
    } finally {
      child.kill();
    }
  });

  it('tracepoint with return_tracepoint: a latency histogram of N calls (scale 0, ns) and a positive sum', async function () {
    const N = 500;
    const child = await spawnGated(writer, [String(N)]);
    try {
      const h = await started(tracepointReceiverFactory, 'tracepoint/latency', {
        tracepoint: 'syscalls/sys_enter_write', return_tracepoint: 'syscalls/sys_exit_write',
        collection_interval: '200ms', filter: { pids: [child.pid] },
      });
      child.go();
      assert.equal((await child.done).code, 0);
      await h.receiver.shutdown();
      const rm = resourceOf(h.batches.at(-1) as MetricsData, child.pid);
      assert.equal(num(callsPoints(rm, 'sonde.tracepoint.calls')[0]?.asInt), N);
      const d = durationPoint(rm, 'sonde.tracepoint.duration');
      assert.ok(d, 'duration point');
      assert.equal(num(d.count), N);
      assert.ok((d.sum ?? 0) > 0);
      assert.equal(d.scale, 0);
      assert.equal(d.positive?.offset, -1);
      const inBuckets = (d.positive?.bucketCounts ?? []).reduce((a: number, b) => a + num(b), num(d.zeroCount));
      assert.equal(inBuckets, N);
      // each bucket i holds (2^i, 2^(i+1)] ns: the sum lies within what the buckets allow
      let lo = 0;
      let hi = 0;
      (d.positive?.bucketCounts ?? []).forEach((c, j) => { const i = j - 1; lo += num(c) * 2 ** i; hi += num(c) * 2 ** (i + 1); });
      assert.ok((d.sum ?? 0) >= lo && (d.sum ?? 0) <= hi, `sum ${d.sum} in [${lo}, ${hi}]`);
    } finally {
      child.kill();
    }
  });

  it('reports an exited process once after its exit, then drops its series', async function () {
    const child = await spawnGated(writer, ['10']);
    try {
      const h = await started(tracepointReceiverFactory, 'tracepoint/exit', {
        tracepoint: 'syscalls/sys_enter_write', collection_interval: '1h', filter: { pids: [child.pid] },
      });
      child.go();
      await child.done;
      await h.receiver.scrapeAndPush();
      assert.equal(lastCalls(h, child.pid), 10);
      const before = h.batches.length;
      await h.receiver.scrapeAndPush();
      assert.equal(h.batches.length, before, 'nothing left to report');
    } finally {
      child.kill();
    }
  });

  it('uprobe with latency: exact calls and a histogram sum within 10% of the program’s own timing', async function () {
    const N = 200;
    const child = await spawnGated(latencyBin, [String(N)]);
    try {
      const h = await started(uprobeReceiverFactory, 'uprobe/work', {
        binary: latencyBin, symbol: 'sonde_work', pid: child.pid, latency: true, collection_interval: '300ms',
      });
      assert.equal(h.receiver.attachedWith, 'uprobe');
      child.go();
      const { code, stdout } = await child.done;
      assert.equal(code, 0);
      await h.receiver.shutdown();
      const m = /calls=(\d+) sum_ns=(\d+)/.exec(stdout);
      assert.ok(m, stdout);
      const own = Number(m[2]);
      const rm = resourceOf(h.batches.at(-1) as MetricsData, child.pid);
      const calls = callsPoints(rm, 'sonde.uprobe.calls')[0];
      assert.equal(num(calls?.asInt), N);
      assert.equal(attr(calls?.attributes, ATTR_PROBE)?.stringValue, `${latencyBin}:sonde_work`);
      const d = durationPoint(rm, 'sonde.uprobe.duration');
      assert.equal(num(d?.count), N);
      const diff = Math.abs((d?.sum ?? 0) - own) / own;
      assert.ok(diff < 0.1, `uprobe sum ${d?.sum} vs program ${own}: ${(diff * 100).toFixed(2)}% apart`);
      // every call sleeps >= 200 us > 2^17 ns: nothing below bucket 17 ((2^17, 2^18] ns), and the
      // sum lies within what the buckets allow
      const b = d?.positive?.bucketCounts ?? [];
      const nonEmpty = b.map((c, j) => (num(c) > 0 ? j - 1 : -99)).filter((i) => i !== -99);
      assert.ok(nonEmpty.every((i) => i >= 17), `buckets ${nonEmpty.join(',')}`);
      let lo = 0;
      let hi = 0;
      b.forEach((c, j) => { lo += num(c) * 2 ** (j - 1); hi += num(c) * 2 ** j; });
      assert.ok((d?.sum ?? 0) > lo && (d?.sum ?? 0) <= hi, `sum ${d?.sum} in (${lo}, ${hi}]`);
    } finally {
      child.kill();
    }
  });

  it('uprobe: a library by name (ld.so.cache) with a symbol attaches', async function () {
    const h = await started(uprobeReceiverFactory, 'uprobe/libc', { library: 'libc.so.6', symbol: 'getppid', pid: process.pid });
    assert.equal(h.receiver.attachedWith, 'uprobe');
  });

  it('filter by executable name: only the matching program is reported', async function () {
    const a = buildC('pwa', WRITER_C);
    const b = buildC('pwb', WRITER_C + '\n/* b */\n');
    const N = 300;
    const ca = await spawnGated(a, [String(N)]);
    const cb = await spawnGated(b, [String(N)]);
    try {
      const h = await started(tracepointReceiverFactory, 'tracepoint/exe', {
        tracepoint: 'syscalls/sys_enter_write', collection_interval: '1h', filter: { executables: ['pwa-*'] },
      });
      ca.go();
      cb.go();
      await Promise.all([ca.done, cb.done]);
      await h.receiver.shutdown();
      assert.equal(lastCalls(h, ca.pid), N);
      assert.equal(lastCalls(h, cb.pid), undefined);
      for (const batch of h.batches) {
        for (const rm of batch.resourceMetrics) assert.match(attr(rm.resource?.attributes, 'process.executable.name')?.stringValue ?? '', /^pwa-/);
      }
    } finally {
      ca.kill();
      cb.kill();
    }
  });

  it('per_cgroup with a real cgroup: the cgroup path attribute, and a cgroup_path filter', async function () {
    const mount = cgroup2Mount();
    if (!mount) this.skip();
    const slice = `/sonde-test-${process.pid}.slice`;
    const scope = `${slice}/probe-${Date.now()}.scope`;
    fs.mkdirSync(path.join(mount as string, scope), { recursive: true });
    const N = 250;
    const inside = await spawnGated(writer, [String(N)]);
    const outside = await spawnGated(writer, [String(N)]);
    try {
      fs.writeFileSync(path.join(mount as string, scope, 'cgroup.procs'), String(inside.pid));
      const h = await started(tracepointReceiverFactory, 'tracepoint/cgroup', {
        tracepoint: 'syscalls/sys_enter_write', collection_interval: '1h', per_cgroup: true, filter: { cgroup_path: slice },
      });
      inside.go();
      outside.go();
      await Promise.all([inside.done, outside.done]);
      await h.receiver.shutdown();
      assert.equal(lastCalls(h, inside.pid), N);
      assert.equal(lastCalls(h, outside.pid), undefined, 'outside the cgroup');
      const p = callsPoints(resourceOf(h.batches.at(-1) as MetricsData, inside.pid), 'sonde.tracepoint.calls')[0];
      assert.equal(attr(p?.attributes, ATTR_CGROUP)?.stringValue, scope);
      for (const batch of h.batches) {
        for (const rm of batch.resourceMetrics) {
          for (const q of callsPoints(rm, 'sonde.tracepoint.calls')) assert.ok(attr(q.attributes, ATTR_CGROUP)?.stringValue?.startsWith(slice + '/'));
        }
      }
    } finally {
      inside.kill();
      outside.kill();
      await Promise.all([inside.done, outside.done]);
      fs.rmdirSync(path.join(mount as string, scope));
      fs.rmdirSync(path.join(mount as string, slice));
    }
  });

  it('max_processes: events of series beyond the capacity are counted as dropped', async function () {
    const child = await spawnGated(writer, ['200']);
    const other = await spawnGated(writer, ['200']);
    try {
      const h = await started(tracepointReceiverFactory, 'tracepoint/full', {
        tracepoint: 'syscalls/sys_enter_write', collection_interval: '1h', max_processes: 1, filter: { pids: [child.pid, other.pid] },
      });
      child.go();
      await child.done;
      other.go();
      await other.done;
      await h.receiver.shutdown();
      assert.equal(lastCalls(h, child.pid), 200);
      assert.equal(lastCalls(h, other.pid), undefined);
      assert.equal(h.telemetry.countOf('probe_events_dropped', { reason: 'max_processes' }), 200);
    } finally {
      child.kill();
      other.kill();
    }
  });

  it('kprobe: counts a child’s vfs_write calls where the kernel allows fentry or kprobe', async function () {
    const usable = report.attach.fentry.supported || report.attach.kprobe.supported;
    if (!usable) {
      console.log(`      skip: fentry: ${report.attach.fentry.reason ?? ''}; kprobe: ${report.attach.kprobe.reason ?? ''}`);
      this.skip();
    }
    const N = 300;
    const child = await spawnGated(writer, [String(N)]);
    try {
      const h = await started(kprobeReceiverFactory, 'kprobe/vfs', { function: 'vfs_write', latency: true, filter: { pids: [child.pid] } });
      child.go();
      await child.done;
      await h.receiver.shutdown();
      assert.ok((lastCalls(h, child.pid, 'sonde.kprobe.calls') ?? 0) >= N);
    } finally {
      child.kill();
    }
  });

  it('kprobe: start fails with the receiver id and the feature probe’s reason where it cannot run', async function () {
    if (report.attach.kprobe.supported) {
      // this kernel has kprobes: the failure to check is an unknown function
      const err = await startOrFail(create(kprobeReceiverFactory, 'kprobe/none', { function: 'sonde_no_such_function', attach: ['kprobe'] }));
      assert.match(err.message, /^kprobe\/none: kernel function sonde_no_such_function/);
      return;
    }
    const err = await startOrFail(create(kprobeReceiverFactory, 'kprobe/vfs', { function: 'vfs_write' }));
    assert.match(err.message, /^kprobe\/vfs: kernel function vfs_write \(attach: fentry -> kprobe\): no attach option works here: fentry: /);
    assert.ok(err.message.includes(`kprobe: not available here: ${report.attach.kprobe.reason ?? ''}`), err.message);
    if (!report.attach.fentry.supported) assert.ok(err.message.includes(`fentry: not available here: ${report.attach.fentry.reason ?? ''}`), err.message);
  });

  describe('start errors name the receiver and the probe', function () {
    it('unknown tracepoint', async function () {
      const err = await startOrFail(create(tracepointReceiverFactory, 'tracepoint/bad', { tracepoint: 'syscalls/sys_enter_nope' }));
      assert.match(err.message, /^tracepoint\/bad: tracepoint syscalls\/sys_enter_nope: unknown tracepoint syscalls\/sys_enter_nope/);
    });

    it('unknown return tracepoint', async function () {
      const err = await startOrFail(create(tracepointReceiverFactory, 'tracepoint/bad', { tracepoint: 'syscalls/sys_enter_write', return_tracepoint: 'nope/nope' }));
      assert.match(err.message, /^tracepoint\/bad: .*unknown tracepoint nope\/nope/);
    });

    it('missing binary', async function () {
      const err = await startOrFail(create(uprobeReceiverFactory, 'uprobe/x', { binary: '/nonexistent/bin', symbol: 'main' }));
      assert.match(err.message, /^uprobe\/x: uprobe \/nonexistent\/bin:main: binary \/nonexistent\/bin does not exist/);
    });

    it('unknown library', async function () {
      const err = await startOrFail(create(uprobeReceiverFactory, 'uprobe/lib', { library: 'libsonde-nope.so.9', symbol: 'f' }));
      assert.match(err.message, /^uprobe\/lib: .*library libsonde-nope\.so\.9 not found \(looked in ld\.so\.cache/);
    });

    it('unknown symbol', async function () {
      const err = await startOrFail(create(uprobeReceiverFactory, 'uprobe/sym', { binary: latencyBin, symbol: 'sonde_no_such_symbol' }));
      assert.match(err.message, /^uprobe\/sym: uprobe .*:sonde_no_such_symbol: .*sonde_no_such_symbol/);
      assert.match(err.message, /failed to find symbol/);
    });

    it('missing cgroup in the filter', async function () {
      const err = await startOrFail(create(tracepointReceiverFactory, 'tracepoint/cg', { tracepoint: 'syscalls/sys_enter_write', filter: { cgroup_path: '/sonde-no-such.slice' } }));
      assert.match(err.message, /^tracepoint\/cg: .*filter\.cgroup_path: cgroup \/sonde-no-such\.slice does not exist/);
    });
  });

  describe('config validation', function () {
    const issues = (f: ReceiverFactory, raw: Record<string, unknown>): string[] => {
      const { value, issues: i } = readConfig(f.config, raw);
      return [...i, ...(f.validate?.(value) ?? [])].map((x) => `${x.path.join('.')}: ${x.message}`);
    };
    it('checks names, exclusive keys and bounds', function () {
      assert.deepEqual(issues(tracepointReceiverFactory, { tracepoint: 'sys_enter_write' }), ['tracepoint: expected "category/name" (e.g. syscalls/sys_enter_write), got "sys_enter_write"']);
      assert.deepEqual(issues(uprobeReceiverFactory, { binary: '/x', library: 'y', symbol: 'f' }), [': set exactly one of "binary" (a path) or "library" (a name such as libssl.so.3)']);
      assert.deepEqual(issues(uprobeReceiverFactory, { binary: '/x' }), [': set "symbol" (a function name) or "offset"']);
      assert.deepEqual(issues(kprobeReceiverFactory, { function: 'vfs_write', attach: ['kprob'] }), ['attach.0: expected one of fentry, kprobe, got "kprob" (did you mean "kprobe"?)']);
      assert.deepEqual(issues(tracepointReceiverFactory, { tracepoint: 'a/b', filter: { pids: Array.from({ length: 17 }, (_, i) => i + 1) } }), ['filter.pids: at most 16 pids (use cgroup_path or executables for more)']);
    });
  });
});
