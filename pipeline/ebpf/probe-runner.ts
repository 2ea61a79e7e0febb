// The engine of the generic probe receivers: check what this kernel allows, load
// bpf/probe_count.bpf.c with the filters as read-only globals, attach the first option the kernel
// accepts, then scrape the kernel's per-process series every collection interval into metrics.
import { kernelClock } from '../../native/clock';
import { probeFeatures } from '../../native/features';
import type { AttachKind, FeatureReport } from '../../native/features';
import { attachFirst } from '../../native/fallback';
import { BpfObject, bpfObjectPath, NotSupportedError } from '../../native/index';
import type { Link } from '../../native/index';
import type { Component, Host, Settings, SignalConsumers } from '../component';
import { ComponentError, errorMessage } from '../errors';
import { nanosFromMillis, type Nanos } from '../pdata';
import type { ProbeCommonConfig } from './probe-config';
import { buildMetrics, type MetricNames, type SeriesSnapshot } from './probe-metrics';
import { decodeProbeKey, decodeProbeStats, PROBE_MAX_PIDS, PROBE_OBJECT } from './probe-stats';
import { CgroupPaths, executableMatcher, processAlive, processInfo, resolveCgroup, type ProcessInfo } from './proc';

/** One way to attach the probe (best-first in ProbeSpec.options). */
export interface ProbeAttachOption {
  /** as logged and as users name it in `attach:` ("fentry", "kprobe", "tracepoint", "uprobe") */
  name: string;
  /** the feature probe's kind that must work for this option */
  kind: AttachKind;
  /** programs to load: entry, and return when latency is on */
  programs: readonly string[];
  /** before load (fentry: the target function) */
  prepare?(obj: BpfObject): void;
  attach(obj: BpfObject): Link[];
}

export interface ProbeSpec {
  /** receiver type, for the scope name */
  type: string;
  /** what is probed, for the sonde.probe attribute and messages ("tracepoint syscalls/...") */
  probe: string;
  describe: string;
  latency: boolean;
  options: readonly ProbeAttachOption[];
  /** pids the probe must watch besides filter.pids (the uprobe `pid` key) */
  extraPids?: readonly number[];
  /** checks before any kernel work (binary exists, ...); throws with the reason */
  preflight?(): void;
}

interface ProcessEntry {
  info: ProcessInfo;
  allowed: boolean;
}

export class ProbeReceiver implements Component {
  private obj: BpfObject | undefined;
  private timer: NodeJS.Timeout | undefined;
  private scraping: Promise<void> | undefined;
  private readonly processes = new Map<number, ProcessEntry>();
  private readonly cgroups: CgroupPaths | undefined;
  private readonly allowExecutable: ((p: ProcessInfo) => boolean) | undefined;
  private readonly names: MetricNames;
  private dropsReported = 0n;
  private stopped = false;
  /** which attach option was taken (after start) */
  attachedWith: string | undefined;

  constructor(
    private readonly settings: Settings,
    private readonly config: ProbeCommonConfig,
    private readonly spec: ProbeSpec,
    private readonly next: SignalConsumers,
  ) {
    this.cgroups = config.per_cgroup ? new CgroupPaths() : undefined;
    this.allowExecutable = config.filter.executables.length > 0 ? executableMatcher(config.filter.executables) : undefined;
    this.names = {
      calls: `${config.metric_prefix}.calls`,
      duration: `${config.metric_prefix}.duration`,
      probe: spec.probe,
      scope: `sonde/receiver/${spec.type}`,
      version: settings.buildInfo.version,
      latency: spec.latency,
    };
  }

  async start(_host: Host): Promise<void> {
    const fail = (msg: string, cause?: unknown): ComponentError =>
      new ComponentError(this.settings.id, `${this.spec.describe}: ${msg}`, { cause });
    try {
      this.spec.preflight?.();
    } catch (e) {
      throw fail(errorMessage(e), e);
    }
    const report = await probeFeatures();
    if (!report.addon.loaded) throw fail(`the eBPF addon is not available: ${report.addon.error ?? ''}`);
    const pids = this.pidFilter();
    const cgroup = this.cgroupFilter(fail);
    try {
      const choice = attachFirst(this.spec.describe, this.spec.options.map((o) => ({
        name: o.name,
        attach: () => this.loadWith(o, report, pids, cgroup),
      })));
      this.obj = choice.value;
      this.attachedWith = choice.chosen;
      this.settings.logger.info('probe attached', {
        probe: this.spec.probe, attach: choice.chosen, latency: this.spec.latency,
        skipped: choice.failures.map((f) => `${f.name}: ${f.reason}`).join('; ') || undefined,
      });
    } catch (e) {
      throw fail(e instanceof NotSupportedError ? `no attach option works here: ${e.reason}` : errorMessage(e), e);
    }
    this.timer = setInterval(() => this.tick(), this.config.collection_interval);
    this.timer.unref();
  }

  private pidFilter(): number[] {
    const pids = [...new Set([...this.config.filter.pids, ...(this.spec.extraPids ?? [])])];
    if (pids.length > PROBE_MAX_PIDS) throw new ComponentError(this.settings.id, `at most ${PROBE_MAX_PIDS} pids can be filtered`);
    return pids;
  }

  private cgroupFilter(fail: (m: string, c?: unknown) => Error): { id: bigint; level: number } | undefined {
    const p = this.config.filter.cgroup_path;
    if (p === undefined) return undefined;
    try {
      return resolveCgroup(p);
    } catch (e) {
      throw fail(`filter.cgroup_path: ${errorMessage(e)}`, e);
    }
  }

  /** Opens the object afresh for this option (libbpf cannot reload after a failed load). */
  private loadWith(o: ProbeAttachOption, report: FeatureReport, pids: number[], cgroup: { id: bigint; level: number } | undefined): BpfObject {
    const support = report.attach[o.kind];
    if (!support.supported) throw new Error(`not available here: ${support.reason ?? 'unknown reason'}`);
    const obj = new BpfObject(bpfObjectPath(PROBE_OBJECT));
    try {
      obj.keepOnly(...(this.spec.latency ? o.programs : o.programs.slice(0, 1)));
      const list = Buffer.alloc(4 * PROBE_MAX_PIDS);
      pids.forEach((p, i) => list.writeUInt32LE(p, i * 4));
      obj.setGlobal('filter_pids', list).setGlobalU32('filter_pid_count', pids.length);
      if (cgroup) obj.setGlobalU64('filter_cgroup_id', cgroup.id).setGlobalU32('filter_cgroup_level', cgroup.level);
      obj.setGlobalBool('per_cgroup', this.config.per_cgroup).setGlobalBool('track_latency', this.spec.latency);
      // the skip map costs a hash lookup per event: only when an executable filter fills it
      obj.setGlobalBool('use_skip_tgids', this.allowExecutable !== undefined);
      obj.setMapMaxEntries('probe_stats', this.config.max_processes).setMapMaxEntries('skip_tgids', this.config.max_processes);
      o.prepare?.(obj);
      obj.setGlobalU32('sonde_self_tgid', process.pid).load();
      o.attach(obj);
      return obj;
    } catch (e) {
      obj.close();
      throw e;
    }
  }

  private tick(): void {
    if (this.scraping || this.stopped) return; // the previous push is still in flight
    this.scraping = this.scrapeAndPush().finally(() => { this.scraping = undefined; });
  }

  /** Reads the kernel's series, pushes them, forgets exited processes. Never throws. */
  async scrapeAndPush(): Promise<void> {
    const obj = this.obj;
    const consumer = this.next.metrics;
    if (!obj || !consumer) return;
    let series: SeriesSnapshot[];
    let gone: Buffer[];
    try {
      ({ series, gone } = this.scrape(obj));
      this.reportDrops(obj);
    } catch (e) {
      this.settings.logger.warn('probe scrape failed', { error: errorMessage(e) });
      return;
    }
    if (series.length > 0) {
      const data = buildMetrics(series, this.names, nanosFromMillis(Date.now()));
      const points = series.length * (this.spec.latency ? 2 : 1);
      try {
        await consumer.consume(data);
        this.settings.telemetry.accepted('metrics', points);
      } catch (e) {
        this.settings.telemetry.refused('metrics', points);
        this.settings.logger.warn('metrics refused downstream', { error: errorMessage(e), points });
        return; // keep exited series: they are reported again next time
      }
    }
    // exited processes were reported once after their exit: drop them (bounded cardinality)
    for (const k of gone) this.forget(obj, k);
  }

  private scrape(obj: BpfObject): { series: SeriesSnapshot[]; gone: Buffer[] } {
    const series: SeriesSnapshot[] = [];
    const gone: Buffer[] = [];
    const clock = kernelClock();
    for (const k of obj.keys('probe_stats')) {
      const v = obj.lookup('probe_stats', k);
      if (!v) continue;
      const key = decodeProbeKey(k);
      const stats = decodeProbeStats(v);
      const alive = processAlive(key.tgid);
      const proc = this.process(key.tgid, stats.comm);
      if (!proc.allowed) {
        this.exclude(obj, k, key.tgid, alive);
        continue;
      }
      const start: Nanos = clock.toEpochLong(stats.firstNs);
      const s: SeriesSnapshot = { process: proc.info, stats, start };
      if (this.cgroups) s.cgroupPath = this.cgroups.pathOf(key.cgroupId) ?? `unknown (cgroup id ${key.cgroupId})`;
      series.push(s);
      if (!alive) gone.push(k);
    }
    return { series, gone };
  }

  /** Process facts, read once per tgid; the executable filter is decided then. */
  private process(tgid: number, comm: string): ProcessEntry {
    let e = this.processes.get(tgid);
    if (!e) {
      const info = processInfo(tgid, comm);
      e = { info, allowed: this.allowExecutable ? this.allowExecutable(info) : true };
      this.processes.set(tgid, e);
    }
    return e;
  }

  /** A process the executable filter rules out: the kernel stops aggregating it. */
  private exclude(obj: BpfObject, k: Buffer, tgid: number, alive: boolean): void {
    const t = Buffer.alloc(4);
    t.writeUInt32LE(tgid);
    try {
      if (alive) obj.update('skip_tgids', t, Buffer.from([1]));
      else {
        obj.delete('skip_tgids', t);
        this.processes.delete(tgid);
      }
      obj.delete('probe_stats', k);
    } catch (e) {
      // skip_tgids full: the series stays and is looked at again next time
      this.settings.telemetry.count('probe_exclusions_failed', 1, { reason: errorMessage(e) });
    }
  }

  private forget(obj: BpfObject, k: Buffer): void {
    const { tgid } = decodeProbeKey(k);
    try {
      obj.delete('probe_stats', k);
    } catch {
      // already gone
    }
    this.processes.delete(tgid);
  }

  /** Events the kernel could not aggregate because max_processes series existed. */
  private reportDrops(obj: BpfObject): void {
    const total = obj.readU64('probe_drops', 0);
    const delta = total - this.dropsReported;
    if (delta <= 0n) return;
    this.dropsReported = total;
    this.settings.telemetry.count('probe_events_dropped', Number(delta), { reason: 'max_processes' });
    this.settings.logger.warn('probe events dropped: the series map is full (raise max_processes or filter)', {
      dropped: Number(delta), total: Number(total), max_processes: this.config.max_processes,
    });
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.scraping;
    // one last scrape, so counts since the last interval are not lost
    if (this.obj) await this.scrapeAndPush();
    this.obj?.close();
    this.obj = undefined;
  }
}
