// The feature probe (what `sonde doctor` prints) tries each attach kind for real; its report and
// both renderings; NotSupportedError from it; the kernel -> wall clock conversion.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';

import { kernelClock, KernelClock } from '../../native/clock';
import { ATTACH_KINDS, doctorJson, formatDoctor, probeFeatures, probeTls, requireAttach } from '../../native/features';
import type { FeatureReport } from '../../native/features';
import { clockPair, NotSupportedError } from '../../native/index';
import { functionOffsets } from '../../pipeline/ebpf/elf';
import { resolveLibrary } from '../../pipeline/ebpf/libraries';
import { ensureEbpfBuild } from '../helpers/ebpf';

describe('eBPF feature probe (sonde doctor) and kernel clock', function () {
  let report: FeatureReport;

  before(async function () {
    ensureEbpfBuild();
    report = await probeFeatures({ fresh: true, tls: true });
  });

  it('reports the kernel, BTF, lockdown, capabilities and mounts', function () {
    assert.match(report.kernel.release, /^\d+\.\d+/);
    assert.equal(report.btf.present, fs.existsSync('/sys/kernel/btf/vmlinux'));
    assert.ok(['none', 'integrity', 'confidentiality', 'unknown'].includes(report.lockdown));
    if (report.uid === 0) {
      // root: the probe mounts what is missing, so these are there afterwards
      assert.equal(report.mounts.tracefs.mounted, true);
      assert.equal(report.mounts.bpffs.mounted, true);
      assert.equal(report.capabilities.CAP_SYS_ADMIN, true);
    }
    assert.equal(report.addon.loaded, true, report.addon.error);
  });

  it('tries every attach kind, with a reason for each refusal', function () {
    assert.deepEqual(Object.keys(report.attach).sort(), [...ATTACH_KINDS].sort());
    // the acceptance tests of this repository need these; they work on any kernel Sonde supports
    for (const k of ['tracepoint', 'raw_tracepoint', 'uprobe', 'perf_event', 'ringbuf'] as const) {
      assert.equal(report.attach[k].supported, true, `${k}: ${report.attach[k].reason ?? ''}`);
    }
    for (const k of ATTACH_KINDS) {
      const a = report.attach[k];
      if (!a.supported) assert.ok(a.reason && a.reason.length > 10, `${k} has a reason`);
      if (!a.supported) assert.throws(() => requireAttach(report, k), (e: unknown) => e instanceof NotSupportedError && e.feature === k && e.reason === a.reason);
      else requireAttach(report, k);
    }
  });

  it('renders for humans and as JSON', function () {
    const text = formatDoctor(report);
    assert.match(text, /^Sonde doctor/);
    for (const k of ATTACH_KINDS) assert.match(text, new RegExp(`^  ${k} +(ok|no: .+)$`, 'm'));
    assert.match(text, /lockdown +\w+/);
    const parsed = JSON.parse(doctorJson(report)) as FeatureReport;
    assert.deepEqual(parsed, JSON.parse(JSON.stringify(report)));
  });

  it('says whether TLS can be traced: uprobes, the system libssl.so.3, static OpenSSL executables (node)', function () {
    const t = report.tls;
    assert.ok(t, 'asked for');
    assert.equal(t.uprobes, report.attach.uprobe.supported);
    // the system library, found the way ebpf_http finds it
    let system: string | undefined;
    try { system = resolveLibrary('libssl.so.3'); } catch { system = undefined; }
    assert.equal(t.libssl.found, system !== undefined && functionOffsets(system, ['SSL_read']).has('SSL_read'));
    if (t.libssl.found) {
      assert.equal(t.libssl.path, system);
      assert.ok(t.libssl.symbols?.includes('SSL_read') && t.libssl.symbols.includes('SSL_write'), String(t.libssl.symbols));
    } else {
      assert.ok((t.libssl.error ?? '').length > 0);
    }
    // this test runs in node, which links OpenSSL statically: its executable is listed
    const node = t.executables.find((b) => b.path === fs.realpathSync(process.execPath));
    assert.ok(node, `${process.execPath} in ${JSON.stringify(t.executables.map((b) => b.path))}`);
    assert.ok(node.symbols.includes('SSL_read') && node.symbols.includes('SSL_write_ex'));
    assert.ok(node.pids.length >= 1 && node.pids.length <= 5);
    assert.equal(t.ready, t.uprobes);
    const text = formatDoctor(report);
    assert.match(text, /^TLS \(ebpf_http/m);
    assert.match(text, new RegExp(`^  HTTPS +${t.ready ? 'yes' : 'no'}`, 'm'));
    assert.match(text, new RegExp(`^  static +${fs.realpathSync(process.execPath).replace(/[.]/g, '\\.')} \\(OpenSSL linked in: `, 'm'));
    if (t.libssl.found) assert.ok(text.includes(`libssl.so.3 ${t.libssl.path ?? ''} (`));
  });

  it('without uprobes, doctor says HTTPS is not traced and why', function () {
    const refused = { supported: false, reason: 'uprobes refused for this test' };
    const r = { ...report, attach: { ...report.attach, uprobe: refused }, tls: probeTls(refused) };
    assert.equal(r.tls.ready, false);
    assert.equal(r.tls.uprobes, false);
    assert.match(formatDoctor(r), /^  HTTPS +no: uprobes do not attach \(uprobes refused for this test\); only plaintext HTTP is traced$/m);
  });

  it('caches the probe per process unless asked to probe again', async function () {
    assert.equal(await probeFeatures(), await probeFeatures());
  });

  it('converts bpf_ktime_get_ns (CLOCK_MONOTONIC) to epoch nanoseconds', function () {
    const pair = clockPair();
    assert.ok(pair.uncertaintyNs < 1_000_000, `clock pair read within ${pair.uncertaintyNs} ns`);
    const clock = kernelClock();
    // process.hrtime is CLOCK_MONOTONIC too: converting "now" must give about Date.now()
    const epoch = clock.toEpochNs(process.hrtime.bigint());
    const drift = Number(epoch / 1_000_000n) - Date.now();
    assert.ok(Math.abs(drift) < 50, `${drift} ms off`);
    const asLong = clock.toEpochLong(pair.monotonicNs);
    assert.equal(asLong.toString(), clock.toEpochNs(pair.monotonicNs).toString());
    assert.equal(asLong.unsigned, true);
    // the offset is measured once and reused until the refresh interval passes
    let reads = 0;
    const counting = new KernelClock(() => (reads++, pair), 60_000);
    counting.toEpochNs(1n);
    counting.toEpochNs(2n);
    assert.equal(reads, 1);
    assert.equal(counting.toEpochNs(pair.monotonicNs), pair.realtimeNs);
  });
});
