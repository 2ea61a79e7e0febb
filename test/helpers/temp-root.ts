// Loaded by mocha before any test (.mocharc.json): every temporary file of the run, the tests'
// own and those of the processes they start (which inherit TMPDIR), goes under one directory,
// removed when the run ends, so nothing a test wrote survives it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sonde-test-run-'));
// like /tmp: tests run some peers as another user (nobody), each in a directory of its own
fs.chmodSync(root, 0o1777);
process.env['TMPDIR'] = root;

export const mochaHooks = {
  afterAll(): void {
    fs.rmSync(root, { recursive: true, force: true });
  },
};
