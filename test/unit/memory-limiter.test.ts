// memory_limiter pieces without a process around them: config rules (the Collector's), limits,
// the cgroup lookup over fake /proc and /sys files, the monitor's states and GC policy, the
// processor's answers; and the receiver's admission bookkeeping.
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import type { ComponentTelemetry, Consumer, Settings } from '../../pipeline/component';
import { readConfig } from '../../pipeline/config/schema';
import { RetryableError } from '../../pipeline/errors';
import type { Logger, LogFields } from '../../pipeline/logger';
import type { Signal, TracesData } from '../../pipeline/pdata';
import { memoryLimiterProcessorFactory } from '../../processors/memory_limiter';
import { limitsOf, type MemoryLimiterConfig } from '../../processors/memory_limiter/config';
import { cgroupMemoryLimit, forceGc, totalMemory } from '../../processors/memory_limiter/memory';
import { MemoryMonitor } from '../../processors/memory_limiter/monitor';
import { MemoryLimiterProcessor } from '../../processors/memory_limiter/processor';
import { Admission, MIN_REQUEST_BYTES } from '../../receivers/otlp/admission';

const MiB = 1024 * 1024;

function read(raw: unknown): { value: MemoryLimiterConfig; errors: string[]; warnings: string[] } {
  const { value, issues } = readConfig(memoryLimiterProcessorFactory.config, raw);
  const all = [...issues, ...(memoryLimiterProcessorFactory.validate?.(value) ?? [])];
  const fmt = (i: { path: readonly (string | number)[]; message: string }): string => `${i.path.join('.')}: ${i.message}`;
  return {
    value: value as MemoryLimiterConfig,
    errors: all.filter((i) => i.severity === 'error').map(fmt),
    warnings: all.filter((i) => i.severity === 'warning').map(fmt),
  };
}

class LogRecorder implements Logger {
  readonly lines: { level: string; msg: string; fields?: LogFields }[] = [];
  debug(msg: string, fields?: LogFields): void { this.lines.push({ level: 'debug', msg, fields }); }
  info(msg: string, fields?: LogFields): void { this.lines.push({ level: 'info', msg, fields }); }
  warn(msg: string, fields?: LogFields): void { this.lines.push({ level: 'warn', msg, fields }); }
  error(msg: string, fields?: LogFields): void { this.lines.push({ level: 'error', msg, fields }); }
  with(): Logger { return this; }
}

class Counts implements ComponentTelemetry {
  readonly totals: Record<string, number> = {};
  private add(k: string, n: number): void { this.totals[k] = (this.totals[k] ?? 0) + n; }
  accepted(_s: Signal, n: number): void { this.add('accepted', n); }
  refused(_s: Signal, n: number): void { this.add('refused', n); }
  dropped(_s: Signal, n: number): void { this.add('dropped', n); }
  sent(_s: Signal, n: number): void { this.add('sent', n); }
  failed(_s: Signal, n: number): void { this.add('failed', n); }
  observeGauge(): void {}
  count(name: string, n: number): void { this.add(name, n); }
}

interface FakeMemory { rss: number; gcs: number; freedByGc: number; clock: number }

function monitorOn(mem: FakeMemory, logger: Logger, opts: { softGapMs?: number; hardGapMs?: number; gcWorks?: boolean } = {}): MemoryMonitor {
  return new MemoryMonitor({
    checkIntervalMs: 1000,
    minGcIntervalSoftMs: opts.softGapMs ?? 10_000,
    minGcIntervalHardMs: opts.hardGapMs ?? 0,
    limits: { hard: 200 * MiB, soft: 160 * MiB },
    logger,
    readRss: () => mem.rss,
    forceGc: () => {
      if (opts.gcWorks === false) return false;
      mem.gcs++;
      mem.rss -= mem.freedByGc;
      return true;
    },
    now: () => mem.clock,
  });
}

function spans(n: number): TracesData {
  return { resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 's', attributes: [] }, spans: Array.from({ length: n }, (_, i) => ({ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, i + 1), name: `s${i}`, attributes: [], events: [], links: [] })) }] }] };
}

describe('memory_limiter', () => {
  describe('config', () => {
    it('requires check_interval and a limit, as the Collector does', () => {
      assert.deepEqual(read({ limit_mib: 100 }).errors, [': missing required key "check_interval" (a duration such as 5s or 200ms)']);
      assert.deepEqual(read({ check_interval: '1s' }).errors, [': "limit_mib" or "limit_percentage" must be greater than zero']);
      assert.deepEqual(read({ check_interval: '0s', limit_mib: 100 }).errors, ['check_interval: must be greater than zero']);
      assert.deepEqual(read({ check_interval: '1s', limit_mib: 100 }).errors, []);
    });

    it('rejects a spike limit not smaller than the limit, and percentages over 100', () => {
      assert.deepEqual(read({ check_interval: '1s', limit_mib: 100, spike_limit_mib: 100 }).errors, ['spike_limit_mib: must be smaller than limit_mib (100), got 100']);
      assert.deepEqual(read({ check_interval: '1s', limit_percentage: 50, spike_limit_percentage: 60 }).errors, ['spike_limit_percentage: must be smaller than limit_percentage (50), got 60']);
      assert.equal(read({ check_interval: '1s', limit_percentage: 101 }).errors.length, 1);
      assert.deepEqual(read({ check_interval: '1s', limit_mib: 100, min_gc_interval_when_soft_limited: '1s', min_gc_interval_when_hard_limited: '5s' }).errors,
        ['min_gc_interval_when_soft_limited: must be at least min_gc_interval_when_hard_limited']);
    });

    it('reads the Collector defaults and warns about mixed forms and ballast_size_mib', () => {
      const { value, warnings } = read({ check_interval: '1s', limit_mib: 100, limit_percentage: 50, ballast_size_mib: 10 });
      assert.equal(value.check_interval, 1000);
      assert.equal(value.min_gc_interval_when_soft_limited, 10_000);
      assert.equal(value.min_gc_interval_when_hard_limited, 0);
      assert.equal(warnings.length, 2);
      assert.match(warnings.join('\n'), /limit_percentage: ignored: limit_mib is set/);
      assert.match(warnings.join('\n'), /ballast_size_mib/);
    });

    it('computes the soft limit as limit - spike, the spike defaulting to 20% of the limit', () => {
      const noTotal = (): number => { throw new Error('total memory is not needed for limit_mib'); };
      assert.deepEqual(limitsOf(read({ check_interval: '1s', limit_mib: 200 }).value, noTotal), { hard: 200 * MiB, soft: 160 * MiB });
      assert.deepEqual(limitsOf(read({ check_interval: '1s', limit_mib: 200, spike_limit_mib: 50 }).value, noTotal), { hard: 200 * MiB, soft: 150 * MiB });
      assert.deepEqual(limitsOf(read({ check_interval: '1s', limit_percentage: 50, spike_limit_percentage: 10 }).value, () => 1000 * MiB), { hard: 500 * MiB, soft: 400 * MiB });
      assert.deepEqual(limitsOf(read({ check_interval: '1s', limit_percentage: 50 }).value, () => 1000 * MiB), { hard: 500 * MiB, soft: 400 * MiB });
    });
  });

  describe('total memory', () => {
    const files = (map: Record<string, string>) => (f: string): string | undefined => map[f];

    it('reads a cgroup v1 limit on a hybrid host, and treats the huge default as no limit', () => {
      const base = {
        '/proc/self/cgroup': '9:name=systemd:/\n4:memory:/kubepods/pod1/ctr\n0::/\n',
        '/proc/self/mountinfo': '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n',
        '/sys/fs/cgroup/memory/kubepods/pod1/ctr/memory.limit_in_bytes': '9223372036854771712\n',
        '/sys/fs/cgroup/memory/kubepods/pod1/memory.limit_in_bytes': String(512 * MiB),
        '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712',
        '/sys/fs/cgroup/unified/memory.max': 'max\n',
      };
      assert.equal(cgroupMemoryLimit(files(base)), 512 * MiB, "a parent's limit applies");
      assert.equal(totalMemory(files(base), 8192 * MiB), 512 * MiB);
      assert.equal(totalMemory(files(base), 256 * MiB), 256 * MiB, 'never more than physical memory');
      const unlimited = { ...base, '/sys/fs/cgroup/memory/kubepods/pod1/memory.limit_in_bytes': '9223372036854771712' };
      assert.equal(cgroupMemoryLimit(files(unlimited)), undefined);
      assert.equal(totalMemory(files(unlimited), 8192 * MiB), 8192 * MiB);
    });

    it('reads memory.max on cgroup v2, inside a cgroup namespace too', () => {
      const ns = {
        '/proc/self/cgroup': '0::/\n',
        '/proc/self/mountinfo': '30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n',
        '/sys/fs/cgroup/memory.max': '268435456\n',
      };
      assert.equal(cgroupMemoryLimit(files(ns)), 256 * MiB);
      const host = {
        '/proc/self/cgroup': '0::/kubepods.slice/pod.slice/cri.scope\n',
        '/proc/self/mountinfo': '30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n',
        '/sys/fs/cgroup/kubepods.slice/pod.slice/cri.scope/memory.max': String(300 * MiB),
        '/sys/fs/cgroup/kubepods.slice/pod.slice/memory.max': 'max',
        '/sys/fs/cgroup/kubepods.slice/memory.max': String(4096 * MiB),
      };
      assert.equal(cgroupMemoryLimit(files(host)), 300 * MiB);
      assert.equal(cgroupMemoryLimit(files({})), undefined, 'no /proc: no limit');
    });

    it('reads this machine without failing', () => {
      const total = totalMemory();
      assert.ok(total > 0 && total <= os.totalmem());
    });
  });

  describe('monitor', () => {
    it('refuses from the soft limit on, logs once per change of state, and forces a GC above the hard limit', () => {
      const mem: FakeMemory = { rss: 100 * MiB, gcs: 0, freedByGc: 0, clock: 0 };
      const log = new LogRecorder();
      const m = monitorOn(mem, log);
      m.check();
      assert.equal(m.state, 'normal');
      assert.equal(log.lines.length, 0);

      mem.rss = 170 * MiB;
      for (let i = 0; i < 5; i++) { mem.clock += 1000; m.check(); }
      assert.equal(m.state, 'soft_limited');
      assert.ok(m.limited);
      assert.equal(mem.gcs, 1, 'soft-limited GCs are at most one per min_gc_interval_when_soft_limited');
      assert.deepEqual(log.lines.map((l) => l.msg), ['memory usage above the soft limit: refusing data']);
      assert.equal(log.lines[0]!.fields?.rss_mib, 170);

      mem.rss = 250 * MiB;
      for (let i = 0; i < 3; i++) { mem.clock += 1000; m.check(); }
      assert.equal(m.state, 'hard_limited');
      assert.equal(mem.gcs, 4, 'above the hard limit, a GC at every check (min_gc_interval_when_hard_limited 0)');

      mem.rss = 120 * MiB;
      mem.clock += 1000; m.check();
      mem.clock += 1000; m.check();
      assert.equal(m.state, 'normal');
      assert.deepEqual(log.lines.map((l) => l.level + ' ' + l.msg), [
        'warn memory usage above the soft limit: refusing data',
        'warn memory usage above the hard limit: refusing data, forcing GC',
        'info memory usage back under the soft limit: accepting data',
      ]);
    });

    it('leaves the limited state at once when the forced GC brings memory under the soft limit', () => {
      const mem: FakeMemory = { rss: 210 * MiB, gcs: 0, freedByGc: 100 * MiB, clock: 0 };
      const log = new LogRecorder();
      const m = monitorOn(mem, log);
      m.check();
      assert.equal(mem.gcs, 1);
      assert.equal(m.state, 'normal');
      assert.equal(log.lines.length, 0, 'no state change, no line');
    });

    it('says once that a GC cannot be forced', () => {
      const mem: FakeMemory = { rss: 300 * MiB, gcs: 0, freedByGc: 0, clock: 0 };
      const log = new LogRecorder();
      const m = monitorOn(mem, log, { gcWorks: false });
      for (let i = 0; i < 4; i++) { mem.clock += 1000; m.check(); }
      assert.equal(log.lines.filter((l) => /cannot force/.test(l.msg)).length, 1);
      assert.equal(m.state, 'hard_limited');
    });

    it('forces a real GC on this Node without --expose-gc', () => {
      assert.equal(forceGc(), true);
    });
  });

  describe('processor', () => {
    function processor(limited: () => boolean, next: Consumer<TracesData>): { p: MemoryLimiterProcessor<'traces'>; t: Counts } {
      const t = new Counts();
      const settings: Settings = { id: 'memory_limiter/x', kind: 'processor', logger: new LogRecorder(), telemetry: t, buildInfo: { command: 'sonde', version: 'test' } };
      const monitor = { get limited() { return limited(); } } as unknown as MemoryMonitor;
      const cfg = read({ check_interval: '250ms', limit_mib: 100 }).value;
      return { p: new MemoryLimiterProcessor(settings, cfg, 'traces', next, { monitor }), t };
    }

    it('passes data on under the soft limit and refuses it, retryably and counted, above', async () => {
      let limited = false;
      const got: TracesData[] = [];
      const { p, t } = processor(() => limited, { consume: async (d) => { got.push(d); } });
      await p.consume(spans(3));
      assert.equal(got.length, 1);
      limited = true;
      await assert.rejects(p.consume(spans(5)), (err: unknown) => {
        assert.ok(err instanceof RetryableError);
        assert.match(err.message, /^memory_limiter\/x: data refused due to high memory usage/);
        assert.equal(err.retryAfterMs, 1000, 'at least a second, the resolution of Retry-After');
        return true;
      });
      assert.equal(got.length, 1);
      assert.deepEqual(t.totals, { accepted: 3, sent: 3, refused: 5 });
    });

    it('lets a downstream refusal through unchanged', async () => {
      const boom = new RetryableError('queue full', { retryAfterMs: 5000 });
      const { p } = processor(() => false, { consume: async () => { throw boom; } });
      await assert.rejects(p.consume(spans(1)), (err) => err === boom);
    });
  });
});

describe('otlp receiver admission', () => {
  it('reserves, grows and releases bytes within the limit', () => {
    const a = new Admission(100_000);
    const r1 = a.reserve(60_000)!;
    assert.ok(r1);
    assert.equal(a.reserve(50_000), undefined, 'over the limit: refused at once');
    const r2 = a.reserve(10)!;
    assert.equal(r2.bytes, MIN_REQUEST_BYTES, 'a request costs at least MIN_REQUEST_BYTES');
    assert.equal(r1.growTo(90_000), true);
    assert.equal(r1.growTo(100_000), false);
    r1.release();
    r1.release();
    assert.equal(a.inFlightBytes, MIN_REQUEST_BYTES, 'release is idempotent');
    r2.release();
    assert.equal(a.inFlightBytes, 0);
  });

  it('admits one request larger than the limit when nothing else is in flight', () => {
    const a = new Admission(10_000);
    const big = a.reserve(50_000)!;
    assert.ok(big);
    assert.equal(big.growTo(80_000), true, 'alone, it may grow');
    assert.equal(a.reserve(1), undefined);
    big.release();
    assert.ok(a.reserve(1));
  });

  it('never refuses with a limit of 0', () => {
    const a = new Admission(0);
    for (let i = 0; i < 100; i++) assert.ok(a.reserve(1e9));
  });
});
