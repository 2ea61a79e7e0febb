// container.id from /proc/<pid>/cgroup: the 64-hex id container runtimes put in the cgroup path
// (docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>, /docker/<id>, /kubepods/.../<id>).
import * as fs from 'node:fs';

const ID = /(?:^|[/-])([0-9a-f]{64})(?:\.scope)?$/;

export function containerIdFromCgroup(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1).trim();
    for (const seg of path.split('/').reverse()) {
      const m = ID.exec(seg);
      if (m) return m[1];
    }
  }
  return undefined;
}

export function containerId(pid: number): string | undefined {
  try {
    return containerIdFromCgroup(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  } catch {
    return undefined;
  }
}
