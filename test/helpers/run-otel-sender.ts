// Runs test/helpers/otel-sender.ts (a real OpenTelemetry SDK application) as a child process and
// fails the test when it exits non-zero or its SDK reported a failed export.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from './sonde-process';

/** env: SIGNAL, PROTOCOL, ENDPOINT, COUNT, EXPECTED_OUT (see otel-sender.ts). */
export async function runOtelSender(env: Record<string, string>): Promise<void> {
  const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), path.join(ROOT, 'test', 'helpers', 'otel-sender.ts')], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, `sender failed:\n${err}`);
  assert.equal(err.includes('export failed'), false, err);
}
