// Tracepoints into this kernel: a program on syscalls/sys_enter_write (and the raw sys_enter
// tracepoint) counts exactly the write(2) calls of one child, and delivers one record per call
// through the ring buffer reader. Also: map operations, program run stats, kernel -> wall clock.
import * as assert from 'node:assert/strict';

import { kernelClock } from '../../native/clock';
import { BpfError, BpfObject, enableStats } from '../../native/index';
import { decodeAll, decodeWriteEvent, WRITE_EVENT } from '../../native/records';
import type { WriteEvent } from '../../native/records';
import { buildC, ensureEbpfBuild, spawnGated, WRITER_C, writerBytes } from '../helpers/ebpf';

const TP = 'tracepoint__syscalls__sys_enter_write';
const RAW = 'raw_tracepoint__sys_enter';

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

describe('eBPF tracepoint (syscalls/sys_enter_write)', function () {
  let writer = '';
  const open: BpfObject[] = [];

  before(function () {
    ensureEbpfBuild();
    writer = buildC('writer', WRITER_C);
  });

  afterEach(function () {
    for (const o of open.splice(0)) o.close();
  });

  function load(pid: number, program: string, emit = true): BpfObject {
    const obj = BpfObject.open('syscall_write');
    open.push(obj);
    obj
      .setGlobalU32('target_tgid', pid)
      .setGlobalU32('sonde_self_tgid', process.pid)
      .setGlobalBool('emit_events', emit)
      .setGlobalU64('sonde_wakeup_bytes', 64 * 1024)
      .keepOnly(program)
      .load();
    return obj;
  }

  it('counts exactly the N write(2) calls of a child and delivers one record each', async function () {
    const N = 5000;
    const child = await spawnGated(writer, [String(N)]);
    try {
      const obj = load(child.pid, TP);
      const records: WriteEvent[] = [];
      let batches = 0;
      const reader = obj.openRingBuffer(
        'events',
        (batch, n) => {
          batches++;
          assert.equal(batch.length, n * WRITE_EVENT.size);
          records.push(...decodeAll(batch, WRITE_EVENT.size, decodeWriteEvent));
        },
        { recordSize: WRITE_EVENT.size },
      );
      obj.attachTracepoint(TP, 'syscalls', 'sys_enter_write');
      const before = BigInt(Date.now()) * 1_000_000n;
      child.go();
      const { code } = await child.done;
      const after = BigInt(Date.now() + 1) * 1_000_000n;
      const stats = await reader.close();
      assert.equal(code, 0);

      assert.equal(obj.readU64('write_calls', 0), BigInt(N), 'kernel-side count');
      assert.equal(records.length, N, 'records delivered to JS');
      assert.equal(stats.deliveredRecords, N);
      assert.equal(stats.droppedRecords, 0);
      assert.equal(obj.kernelLost(), 0n);
      assert.ok(batches >= 1 && batches < N, `records arrive in batches (${batches})`);
      assert.ok(records.every((r) => r.pid === child.pid && r.tid === child.pid));
      assert.equal(new Set(records.map((r) => r.fd)).size, 1, 'all to the same fd');
      assert.equal(records.reduce((s, r) => s + Number(r.count), 0), writerBytes(N));
      // kernel time -> epoch: inside the window the test saw, in order
      const clock = kernelClock();
      const first = clock.toEpochNs((records[0] as WriteEvent).tsNs);
      const last = clock.toEpochNs((records[N - 1] as WriteEvent).tsNs);
      assert.ok(first >= before && last <= after, `${first} .. ${last} within ${before} .. ${after}`);
      assert.ok(records.every((r, i) => i === 0 || r.tsNs >= (records[i - 1] as WriteEvent).tsNs));
    } finally {
      child.kill();
    }
  });

  it('delivers the same records through a perf buffer reader', async function () {
    const N = 1500;
    const child = await spawnGated(writer, [String(N)]);
    try {
      const obj = BpfObject.open('syscall_write');
      open.push(obj);
      obj
        .setGlobalU32('target_tgid', child.pid)
        .setGlobalBool('use_perfbuf', true)
        .keepOnly(TP)
        .load();
      const records: WriteEvent[] = [];
      const reader = obj.openPerfBuffer(
        'perf_events',
        (b) => records.push(...decodeAll(b, WRITE_EVENT.size, decodeWriteEvent)),
        { recordSize: WRITE_EVENT.size, perfBufferPages: 64 },
      );
      obj.attachTracepoint(TP, 'syscalls', 'sys_enter_write');
      child.go();
      assert.equal((await child.done).code, 0);
      const stats = await reader.close();
      assert.equal(stats.kernelLost, 0);
      assert.equal(stats.droppedRecords, 0);
      assert.equal(stats.malformed, 0);
      assert.equal(records.length, N);
      assert.equal(obj.kernelLost(), 0n);
      assert.equal(records.reduce((s, r) => s + Number(r.count), 0), writerBytes(N));
      // per-CPU buffers: order is per CPU, so compare as a set of timestamps
      assert.equal(new Set(records.map((r) => r.tsNs)).size, N);
    } finally {
      child.kill();
    }
  });

  it('counts what a full JS queue drops: delivered + dropped = N, nothing unexplained', async function () {
    const N = 20000;
    const child = await spawnGated(writer, [String(N)]);
    try {
      const obj = load(child.pid, TP);
      let delivered = 0;
      const reader = obj.openRingBuffer(
        'events',
        (_b, n) => {
          delivered += n;
          const until = Date.now() + 20; // a JS consumer far slower than the kernel
          while (Date.now() < until);
        },
        // tiny batches, one queue slot, no patience: drops are certain
        { recordSize: WRITE_EVENT.size, batchBytes: 4096, maxQueuedBatches: 1, maxBlockMs: 0, flushIntervalMs: 1 },
      );
      obj.attachTracepoint(TP, 'syscalls', 'sys_enter_write');
      child.go();
      await child.done;
      const stats = await reader.close();
      assert.ok(stats.droppedRecords > 0, 'the queue overflowed');
      assert.ok(stats.droppedBatches > 0);
      assert.equal(stats.records, N, 'every record left the kernel buffer');
      assert.equal(delivered + stats.droppedRecords, N, 'delivered + dropped accounts for every record');
      assert.equal(obj.kernelLost(), 0n);
    } finally {
      child.kill();
    }
  });

  it('frames variable-size records with their length when no recordSize is given', async function () {
    const N = 50;
    const child = await spawnGated(writer, [String(N)]);
    try {
      const obj = load(child.pid, TP);
      const sizes: number[] = [];
      const reader = obj.openRingBuffer('events', (b, n) => {
        let off = 0;
        for (let i = 0; i < n; i++) {
          const len = b.readUInt32LE(off);
          sizes.push(len);
          off += 4 + len;
        }
        assert.equal(off, b.length);
      });
      obj.attachTracepoint(TP, 'syscalls', 'sys_enter_write');
      child.go();
      await child.done;
      await reader.close();
      assert.deepEqual(sizes, new Array<number>(N).fill(WRITE_EVENT.size));
    } finally {
      child.kill();
    }
  });

  it('counts the same through the raw sys_enter tracepoint', async function () {
    const N = 777;
    const child = await spawnGated(writer, [String(N)]);
    try {
      const obj = load(child.pid, RAW, false);
      const link = obj.attachRawTracepoint(RAW, 'sys_enter');
      assert.equal(link.kind, 'raw_tracepoint');
      child.go();
      assert.equal((await child.done).code, 0);
      link.close();
      assert.equal(link.closed, true);
      assert.equal(obj.readU64('write_calls', 1), BigInt(N));
    } finally {
      child.kill();
    }
  });

  it('reports per-program run count and run time while stats are enabled', async function () {
    const N = 300;
    const child = await spawnGated(writer, [String(N)]);
    const stats = enableStats();
    try {
      const obj = load(child.pid, TP, false);
      obj.attachTracepoint(TP, 'syscalls', 'sys_enter_write');
      const before = obj.programInfo(TP);
      child.go();
      await child.done;
      const after = obj.programInfo(TP);
      assert.ok(after.id > 0);
      // the program runs for every write on the machine and filters inside
      assert.ok(after.runCount - before.runCount >= BigInt(N), `${after.runCount} - ${before.runCount} >= ${N}`);
      assert.ok(after.runTimeNs > before.runTimeNs);
    } finally {
      stats.close();
      child.kill();
    }
  });

  it('reads, updates, iterates and deletes map entries with Buffers', function () {
    const obj = load(1, TP, false);
    assert.deepEqual(obj.keys('write_calls').map((k) => k.readUInt32LE()), [0, 1]);
    const v = Buffer.alloc(8);
    v.writeBigUInt64LE(42n);
    obj.update('write_calls', u32(1), v);
    assert.equal(obj.readU64('write_calls', 1), 42n);
    assert.equal(obj.lookup('write_calls', u32(7)), null, 'out of range -> null');
    // per-CPU map: one 8-byte slot per possible CPU
    const lost = obj.lookup('sonde_lost', u32(0));
    assert.ok(lost && lost.length % 8 === 0 && lost.length >= 8);
    // arrays cannot delete: a typed error naming the map and the operation
    assert.throws(
      () => obj.delete('write_calls', u32(0)),
      (e: unknown) => e instanceof BpfError && e.code === 'EINVAL' && /map delete write_calls/.test(e.message),
    );
    assert.throws(() => obj.lookup('write_calls', Buffer.alloc(2)), /key is 4 bytes, got 2/);
    assert.throws(() => obj.lookup('no_such_map', u32(0)), /no map no_such_map/);
  });
});
