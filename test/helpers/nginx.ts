// A real nginx (Debian's nginx-light, installed by scripts/setup-peers.sh) on 127.0.0.1 and an
// ephemeral port, with its own prefix directory, config and logs; stopped by stop().
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const NGINX_BIN = '/usr/sbin/nginx';

export interface NginxOptions {
  /** extra `location` blocks inside the server block */
  locations?: string;
  /** files to create under the document root: relative path -> content */
  files?: Record<string, string | Buffer>;
  workers?: number;
}

export interface Nginx {
  port: number;
  prefix: string;
  root: string;
  /** the master process */
  pid: number;
  /** the worker processes' pids */
  workers(): number[];
  stop(): Promise<void>;
}

/** The default locations the HTTP tests use: 200, 404 (anything missing) and 500. */
export const TEST_LOCATIONS = `
    location = /500 { return 500; }
    location /error/ { return 500; }
    location /users/ { return 200 "user\\n"; }
    location = /ok { return 200 "ok\\n"; }
`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function config(prefix: string, port: number, o: NginxOptions): string {
  return `
daemon off;
master_process on;
worker_processes ${o.workers ?? 1};
user root;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  keepalive_timeout 60s;
  keepalive_requests 100000;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  default_type text/plain;
  server {
    listen 127.0.0.1:${port};
    root ${prefix}/html;
${o.locations ?? TEST_LOCATIONS}
  }
}
`;
}

function childPids(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function waitListening(port: number, child: ChildProcess, errLog: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${String(child.exitCode)}): ${fs.existsSync(errLog) ? fs.readFileSync(errLog, 'utf8') : ''}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nginx did not listen on 127.0.0.1:${port}`);
}

export async function startNginx(o: NginxOptions = {}): Promise<Nginx> {
  if (!fs.existsSync(NGINX_BIN)) throw new Error(`${NGINX_BIN} is missing: run scripts/setup-peers.sh as root (installs nginx-light)`);
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'sonde-nginx-'));
  for (const d of ['html', 'tmp', 'logs']) fs.mkdirSync(path.join(prefix, d));
  for (const [f, content] of Object.entries(o.files ?? {})) {
    const p = path.join(prefix, 'html', f);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  const port = await freePort();
  const conf = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(conf, config(prefix, port, o));
  const test = spawnSync(NGINX_BIN, ['-t', '-p', prefix, '-c', conf], { encoding: 'utf8' });
  if (test.status !== 0) throw new Error(`nginx -t failed: ${test.stderr}`);
  const child = spawn(NGINX_BIN, ['-p', prefix, '-c', conf], { stdio: 'ignore' });
  try {
    await waitListening(port, child, path.join(prefix, 'error.log'));
  } catch (e) {
    child.kill('SIGKILL');
    fs.rmSync(prefix, { recursive: true, force: true });
    throw e;
  }
  const pid = child.pid as number;
  return {
    port,
    prefix,
    root: path.join(prefix, 'html'),
    pid,
    workers: () => childPids(pid),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGQUIT'); // graceful: workers finish their connections
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(prefix, { recursive: true, force: true });
    },
  };
}
