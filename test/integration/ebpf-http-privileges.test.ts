// Without CAP_BPF/CAP_PERFMON the ebpf_http receiver fails start with one line naming the
// receiver, what is missing and how to run it (a child process dropped to uid 65534, no caps).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { ROOT } from '../helpers/ebpf';

const CHILD = `
const { ebpfHttpReceiverFactory } = require(${JSON.stringify(path.join(ROOT, 'receivers/ebpf_http'))});
const { readConfig } = require(${JSON.stringify(path.join(ROOT, 'pipeline/config/schema'))});
const { silentLogger } = require(${JSON.stringify(path.join(ROOT, 'pipeline/logger'))});
const t = { accepted() {}, refused() {}, dropped() {}, sent() {}, failed() {}, observeGauge() {}, count() {} };
const r = ebpfHttpReceiverFactory.create({ id: 'ebpf_http/x', kind: 'receiver', logger: silentLogger, telemetry: t,
  buildInfo: { command: 'sonde', version: 't' } }, readConfig(ebpfHttpReceiverFactory.config, {}).value, {});
r.start({ getExtension() {}, reportFatalError() {}, describe: () => ({ pipelines: [], components: [] }), stats: () => [] })
  .then(() => console.log('STARTED'), (e) => console.log('ERR ' + e.message));
`;

describe('ebpf_http without privileges', function () {
  this.timeout(60_000);

  it('fails start with one line: the receiver id, the missing capabilities and how to run it', function () {
    if (process.getuid?.() !== 0 || !fs.existsSync('/usr/bin/setpriv')) this.skip(); // needs root to drop privileges
    const r = spawnSync('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all',
      process.execPath, '--require', 'tsx/cjs', '-e', CHILD], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, HOME: '/tmp' } });
    const out = r.stdout.trim();
    assert.equal(out.split('\n').length, 1, out + r.stderr);
    assert.match(out, /^ERR ebpf_http\/x: cannot load its eBPF programs \(pid \d+\): needs CAP_BPF and CAP_PERFMON/);
    assert.match(out, /run as root/);
  });
});
