// uprobe + uretprobe on a function of a small C program built here: the exact call count, and
// latencies whose sum matches the program's own timing of the same calls within 10%.
import * as assert from 'node:assert/strict';

import { BpfObject } from '../../native/index';
import { decodeAll, decodeLatencyEvent, LATENCY_EVENT } from '../../native/records';
import type { LatencyEvent } from '../../native/records';
import { buildC, ensureEbpfBuild, LATENCY_C, spawnGated } from '../helpers/ebpf';

const ENTRY = 'uprobe__func_entry';
const RETURN = 'uretprobe__func_return';

describe('eBPF uprobe + uretprobe (function latency)', function () {
  let bin = '';
  let obj: BpfObject | undefined;

  before(function () {
    ensureEbpfBuild();
    bin = buildC('latency', LATENCY_C);
  });

  afterEach(function () {
    obj?.close();
    obj = undefined;
  });

  it('counts every call and measures latencies that sum to the program’s own timing', async function () {
    const N = 200;
    const child = await spawnGated(bin, [String(N)]);
    try {
      obj = BpfObject.open('uprobe_latency');
      obj.setGlobalU32('target_tgid', child.pid).setGlobalU32('sonde_self_tgid', process.pid).load();
      const events: LatencyEvent[] = [];
      const reader = obj.openRingBuffer(
        'events',
        (b) => events.push(...decodeAll(b, LATENCY_EVENT.size, decodeLatencyEvent)),
        { recordSize: LATENCY_EVENT.size },
      );
      const entry = obj.attachUprobe(ENTRY, { binary: bin, symbol: 'sonde_work', pid: child.pid });
      const ret = obj.attachUprobe(RETURN, { binary: bin, symbol: 'sonde_work', pid: child.pid, retprobe: true });
      assert.equal(entry.kind, 'uprobe');
      assert.equal(ret.kind, 'uretprobe');
      assert.match(entry.target, /:sonde_work pid \d+$/);

      child.go();
      const { code, stdout } = await child.done;
      await reader.close();
      assert.equal(code, 0);
      const m = /calls=(\d+) sum_ns=(\d+)/.exec(stdout);
      assert.ok(m, `child output: ${stdout}`);
      const ownSum = Number(m[2]);

      // exact count, through both paths (ring buffer records and kernel-side totals)
      assert.equal(events.length, N);
      assert.equal(obj.readU64('totals', 0), BigInt(N), 'entries');
      assert.equal(obj.readU64('totals', 1), BigInt(N), 'returns');
      assert.ok(events.every((e) => e.pid === child.pid));
      // sonde_work(i) returns 2i: the return register reached us
      assert.deepEqual(events.map((e) => Number(e.retval)), Array.from({ length: N }, (_, i) => 2 * i));

      const sum = events.reduce((s, e) => s + Number(e.durationNs), 0);
      assert.equal(BigInt(sum), obj.readU64('totals', 2), 'ring buffer sum = kernel sum');
      const diff = Math.abs(sum - ownSum) / ownSum;
      if (process.env["SONDE_TEST_VERBOSE"]) console.log(`      uprobe sum ${sum} ns, program ${ownSum} ns, ${(diff * 100).toFixed(2)}% apart`);
      assert.ok(diff < 0.1, `uprobe sum ${sum} ns vs program's own ${ownSum} ns: ${(diff * 100).toFixed(2)}% apart`);

      // the kernel's log2 histogram is exactly the distribution of the delivered records, and
      // nothing is below 2^17 ns (every call sleeps >= 200 us)
      const expected = new Array<bigint>(64).fill(0n);
      for (const e of events) {
        const d = e.durationNs;
        const bucket = d === 0n ? 0 : d.toString(2).length - 1;
        expected[bucket] = (expected[bucket] ?? 0n) + 1n;
      }
      const hist = Array.from({ length: 64 }, (_, i) => obj?.readU64('latency_log2', i) ?? 0n);
      assert.deepEqual(hist, expected);
      assert.equal(hist.reduce((a, b) => a + b, 0n), BigInt(N));
      assert.ok(hist.slice(0, 17).every((c) => c === 0n));
      assert.equal(obj.kernelLost(), 0n);
      // nothing left waiting for a return
      assert.equal(obj.keys('starts').length, 0);
    } finally {
      child.kill();
    }
  });

  it('attaches by offset too, and deletes hash entries', async function () {
    const child = await spawnGated(bin, ['3']);
    try {
      obj = BpfObject.open('uprobe_latency');
      obj.setGlobalU32('target_tgid', child.pid).load();
      // symbol + offset 0 is the symbol; an explicit hash update/delete on the starts map
      obj.attachUprobe(ENTRY, { binary: bin, symbol: 'sonde_work', offset: 0, pid: child.pid });
      const k = Buffer.alloc(4);
      k.writeUInt32LE(123456);
      obj.update('starts', k, Buffer.alloc(8));
      assert.equal(obj.keys('starts').length, 1);
      assert.equal(obj.delete('starts', k), true);
      assert.equal(obj.delete('starts', k), false);
      child.go();
      await child.done;
      assert.equal(obj.readU64('totals', 0), 3n);
    } finally {
      child.kill();
    }
  });
});
