// Runs the built `sonde` CLI as a real child process for end-to-end tests, on ephemeral ports.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** The checkout's root, whether this runs from test/ (tsx) or dist/test/ (compiled benches). */
export const ROOT = ((): string => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
})();
export const SONDE_BIN = path.join(ROOT, 'dist', 'bin', 'sonde.js');

export function requireBuild(): void {
  if (!fs.existsSync(SONDE_BIN)) throw new Error(`${SONDE_BIN} is missing: run \`npm run setup\` (npm test does it)`);
}

/** The complete lines of a file another process may be appending to (what follows the last
 * newline is a line still being written), blank ones left out; none when there is no file. */
export function completeLines(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.pop();
  return lines.filter((l) => l.trim() !== '');
}

/** A port free right now on 127.0.0.1 (the kernel picks it; we release it for the child). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix = 'sonde-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface SondeProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * Starts `sonde run` on a config text; resolves once the service logged that it is ready.
 * Rejects with the process output if it exits first or is not ready in time.
 */
export async function startSonde(configYaml: string, opts: { dir?: string; env?: NodeJS.ProcessEnv; readyTimeoutMs?: number; nodeArgs?: string[] } = {}): Promise<SondeProcess> {
  requireBuild();
  const dir = opts.dir ?? tempDir();
  const file = path.join(dir, `sonde-${Date.now()}-${Math.random().toString(16).slice(2)}.yaml`);
  fs.writeFileSync(file, configYaml);
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), SONDE_BIN, 'run', '--config', file], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sonde not ready after ${opts.readyTimeoutMs ?? 20000} ms:\n${err}`)), opts.readyTimeoutMs ?? 20000);
    const check = (): void => {
      if (err.includes('everything is ready')) { clearTimeout(timer); resolve(); }
    };
    child.stderr!.on('data', check);
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`sonde exited with ${code} before ready:\n${err}`)); });
  });
  await ready;
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the CLI to completion (validate, components, ...). */
export async function runSonde(args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  requireBuild();
  const child = spawn(process.execPath, [SONDE_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, stdout, stderr };
}

/** Polls until the predicate holds or the time is up. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
