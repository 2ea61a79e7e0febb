// perf_event sampling: a cpu-clock event at 99 Hz on every CPU, the program recording which
// process was on the CPU, collects samples of a busy child (and its user stacks when asked).
import * as assert from 'node:assert/strict';
import * as path from 'node:path';

import { BpfObject, possibleCpus } from '../../native/index';
import { decodeAll, decodeSampleEvent, SAMPLE_EVENT } from '../../native/records';
import type { SampleEvent } from '../../native/records';
import { buildC, ensureEbpfBuild, spawnGated, SPIN_C } from '../helpers/ebpf';

const PROG = 'perf_event__sample';

describe('eBPF perf_event sampling (99 Hz, every CPU)', function () {
  let spin = '';
  let obj: BpfObject | undefined;

  before(function () {
    ensureEbpfBuild();
    spin = buildC('spin', SPIN_C);
  });

  afterEach(function () {
    obj?.close();
    obj = undefined;
  });

  it('collects samples from a busy child', async function () {
    const BUSY_MS = 1000;
    const child = await spawnGated(spin, [String(BUSY_MS)]);
    try {
      obj = BpfObject.open('perf_sample');
      obj
        .setGlobalU32('target_tgid', child.pid)
        .setGlobalU32('sonde_self_tgid', process.pid)
        .setGlobalBool('capture_stacks', true)
        .setGlobalU64('sonde_wakeup_bytes', 0)
        .load();
      const samples: SampleEvent[] = [];
      const reader = obj.openRingBuffer(
        'events',
        (b) => samples.push(...decodeAll(b, SAMPLE_EVENT.size, decodeSampleEvent)),
        { recordSize: SAMPLE_EVENT.size },
      );
      const link = obj.attachPerfEvent(PROG, { frequency: 99 });
      assert.equal(link.kind, 'perf_event');
      assert.equal(link.target, 'cpu-clock@99Hz');
      child.go();
      assert.equal((await child.done).code, 0);
      link.close();
      await reader.close();

      // one busy CPU for 1 s at 99 Hz is ~99 samples; allow a loaded VM to lose many
      assert.ok(samples.length >= 30, `${samples.length} samples`);
      assert.ok(samples.length <= 99 * possibleCpus() * 2, `${samples.length} samples is too many`);
      assert.equal(obj.readU64('samples', 0), BigInt(samples.length));
      assert.ok(samples.every((s) => s.pid === child.pid && s.comm === path.basename(spin).slice(0, 15)));
      assert.ok(samples.every((s) => s.cpu < possibleCpus()));
      assert.ok(samples.some((s) => s.userStackId >= 0), 'user stacks captured');
      const withStack = samples.find((s) => s.userStackId >= 0) as SampleEvent;
      const key = Buffer.alloc(4);
      key.writeUInt32LE(withStack.userStackId);
      const frames = obj.lookup('stacks', key);
      assert.ok(frames && frames.readBigUInt64LE(0) > 0n, 'stack map holds the frames');
    } finally {
      child.kill();
    }
  });

  it('names the event and CPU when perf_event_open refuses', function () {
    obj = BpfObject.open('perf_sample');
    obj.load();
    assert.throws(
      () => obj?.attachPerfEvent(PROG, { frequency: 99, cpus: [100000] }),
      /attach perf_event perf_event__sample at cpu-clock@99Hz cpu 100000 \(perf_event_open\): /,
    );
  });
});
