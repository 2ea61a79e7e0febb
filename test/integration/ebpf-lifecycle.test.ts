// Everything attached is released on close() and when the process dies: links and programs are
// fds, nothing is pinned, so the kernel frees them once the last fd is gone.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { BpfObject } from '../../native/index';
import { buildC, ensureEbpfBuild, ROOT, spawnGated, WRITER_C } from '../helpers/ebpf';

const TP = 'tracepoint__syscalls__sys_enter_write';

function progExists(id: number): boolean {
  return spawnSync('bpftool', ['prog', 'show', 'id', String(id)], { encoding: 'utf8' }).status === 0;
}

async function eventually(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return cond();
}

describe('eBPF lifecycle: detach on close and on process death', function () {
  let writer = '';

  before(function () {
    ensureEbpfBuild();
    writer = buildC('writer', WRITER_C);
  });

  it('Link.close() stops the program seeing events; BpfObject.close() frees it', async function () {
    const obj = BpfObject.open('syscall_write');
    try {
      // every process but this one (load() fills in sonde_self_tgid: Sonde never observes itself)
      obj.keepOnly(TP).setGlobalBool('emit_events', false).setGlobalU32('target_tgid', 0).load();
      const link = obj.attachTracepoint(TP, 'syscalls', 'sys_enter_write');
      const id = obj.programInfo(TP).id;
      assert.ok(progExists(id));
      const runWriter = async (): Promise<void> => {
        const w = await spawnGated(writer, ['100']);
        w.go();
        await w.done;
      };
      await runWriter();
      const attached = obj.readU64('write_calls', 0);
      assert.ok(attached >= 100n, `${attached} writes seen while attached`);
      link.close();
      link.close();
      assert.equal(link.closed, true);
      const detached = obj.readU64('write_calls', 0);
      await runWriter();
      assert.equal(obj.readU64('write_calls', 0), detached, 'nothing counted after detach');
      obj.close();
      assert.ok(await eventually(() => !progExists(id)), `program ${id} still loaded after close`);
    } finally {
      obj.close();
    }
  });

  it('a SIGKILLed process leaves nothing attached', async function () {
    const script = `
const { BpfObject } = require(${JSON.stringify(path.join(ROOT, 'native', 'index.ts'))});
const o = BpfObject.open('syscall_write');
o.keepOnly('${TP}').load();
o.attachTracepoint('${TP}', 'syscalls', 'sys_enter_write');
o.openRingBuffer('events', () => {});
console.log(o.programInfo('${TP}').id);
setInterval(() => {}, 1000);
`;
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const id = await new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding('utf8').once('data', (d: string) => resolve(Number(d.trim())));
      child.once('exit', (code) => reject(new Error(`child exited ${String(code)} before attaching`)));
    });
    assert.ok(id > 0 && progExists(id), `program ${id} loaded by the child`);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    assert.ok(await eventually(() => !progExists(id)), `program ${id} survived its process`);
  });
});
