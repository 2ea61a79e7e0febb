// kprobe and fentry run where the kernel allows them and otherwise skip with the feature probe's
// reason; the attach fallback (fentry -> kprobe -> tracepoint) always finds one that works here.
import * as assert from 'node:assert/strict';

import { loadFirst } from '../../native/fallback';
import { probeFeatures } from '../../native/features';
import type { FeatureReport } from '../../native/features';
import { BpfObject, bpfObjectPath, NotSupportedError } from '../../native/index';
import { buildC, ensureEbpfBuild, spawnGated, WRITER_C } from '../helpers/ebpf';

// slots of the `hits` map in bpf/vfs_write.bpf.c
const HIT = { fentry: 0, fexit: 1, kprobe: 2, kretprobe: 3, tracepoint: 4 } as const;

describe('eBPF kprobe / fentry (where the kernel allows) and attach fallback', function () {
  let writer = '';
  let report: FeatureReport;
  let obj: BpfObject | undefined;

  before(async function () {
    ensureEbpfBuild();
    writer = buildC('writer', WRITER_C);
    report = await probeFeatures();
  });

  afterEach(function () {
    obj?.close();
    obj = undefined;
  });

  async function countWrites(configure: (o: BpfObject, pid: number) => void, slot: number): Promise<void> {
    const N = 400;
    const child = await spawnGated(writer, [String(N)]);
    try {
      obj = BpfObject.open('vfs_write');
      obj.setGlobalU32('target_tgid', child.pid);
      configure(obj, child.pid);
      child.go();
      assert.equal((await child.done).code, 0);
      // vfs_write sees at least the child's write(2) calls
      assert.ok(obj.readU64('hits', slot) >= BigInt(N), `${obj.readU64('hits', slot)} >= ${N}`);
    } finally {
      child.kill();
    }
  }

  it('kprobe + kretprobe on vfs_write count a child’s writes', async function () {
    const k = report.attach.kprobe;
    if (!k.supported) {
      console.log(`      skip: kprobe: ${k.reason ?? ''}`);
      this.skip();
    }
    await countWrites((o) => {
      o.keepOnly('kprobe__vfs_write', 'kretprobe__vfs_write').load();
      o.attachKprobe('kprobe__vfs_write', 'vfs_write');
      o.attachKprobe('kretprobe__vfs_write', 'vfs_write', { retprobe: true });
    }, HIT.kprobe);
    assert.ok((obj?.readU64('hits', HIT.kretprobe) ?? 0n) > 0n);
  });

  it('fentry + fexit on vfs_write count a child’s writes', async function () {
    const f = report.attach.fentry;
    if (!f.supported) {
      console.log(`      skip: fentry: ${f.reason ?? ''}`);
      this.skip();
    }
    await countWrites((o) => {
      o.keepOnly('fentry__vfs_write', 'fexit__vfs_write').load();
      o.attachTrace('fentry__vfs_write');
      o.attachTrace('fexit__vfs_write');
    }, HIT.fentry);
    assert.ok((obj?.readU64('hits', HIT.fexit) ?? 0n) > 0n);
  });

  it('takes the first attach option the kernel accepts and says why the others failed', async function () {
    const N = 250;
    const child = await spawnGated(writer, [String(N)]);
    try {
      const choice = loadFirst(
        'vfs_write probe',
        bpfObjectPath('vfs_write'),
        [
          { name: 'fentry', program: 'fentry__vfs_write', attach: (o) => o.attachTrace('fentry__vfs_write') },
          { name: 'kprobe', program: 'kprobe__vfs_write', attach: (o) => o.attachKprobe('kprobe__vfs_write', 'vfs_write') },
          {
            name: 'tracepoint',
            program: 'tracepoint__syscalls__sys_enter_write',
            attach: (o) => o.attachTracepoint('tracepoint__syscalls__sys_enter_write', 'syscalls', 'sys_enter_write'),
          },
        ],
        (o) => o.setGlobalU32('target_tgid', child.pid),
      );
      obj = choice.value.object;
      // what this kernel allows decides the choice, and the probe agrees with it
      const expected = report.attach.fentry.supported ? 'fentry' : report.attach.kprobe.supported ? 'kprobe' : 'tracepoint';
      assert.equal(choice.chosen, expected);
      assert.deepEqual(choice.failures.map((f) => f.name), ['fentry', 'kprobe'].slice(0, ['fentry', 'kprobe', 'tracepoint'].indexOf(expected)));
      for (const f of choice.failures) assert.match(f.reason, /(fentry|kprobe)__vfs_write/, 'each reason names the program');
      child.go();
      await child.done;
      const slot = HIT[expected];
      assert.ok((obj.readU64('hits', slot)) >= BigInt(N));
    } finally {
      child.kill();
    }
  });

  it('fails with NotSupportedError listing every reason when no option works', function () {
    assert.throws(
      () =>
        loadFirst('nothing', bpfObjectPath('vfs_write'), [
          { name: 'bogus-tracepoint', program: 'tracepoint__syscalls__sys_enter_write', attach: (o) => o.attachTracepoint('tracepoint__syscalls__sys_enter_write', 'syscalls', 'sys_enter_nosuch') },
        ]),
      (e: unknown) =>
        e instanceof NotSupportedError && e.feature === 'nothing' && /bogus-tracepoint: attach tracepoint .* at syscalls\/sys_enter_nosuch: No such file or directory/.test(e.reason),
    );
  });
});
