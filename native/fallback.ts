// Attach fallback: a probe lists its options best-first (fentry -> kprobe -> tracepoint); the
// first one the kernel accepts wins, and the caller learns which and why the others failed.
import { BpfObject } from './index';
import { NotSupportedError } from './errors';
import type { Link, OpenOptions } from './index';

export interface AttachOption<T> {
  /** e.g. "fentry", "kprobe", "tracepoint" */
  name: string;
  attach: () => T;
}

export interface AttachFailure {
  name: string;
  reason: string;
  error: unknown;
}

export interface AttachChoice<T> {
  chosen: string;
  value: T;
  /** the options tried before the chosen one, with their reasons */
  failures: AttachFailure[];
}

const reasonOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Tries each option in order; throws NotSupportedError listing every reason when none works. */
export function attachFirst<T>(feature: string, options: readonly AttachOption<T>[]): AttachChoice<T> {
  const failures: AttachFailure[] = [];
  for (const o of options) {
    try {
      return { chosen: o.name, value: o.attach(), failures };
    } catch (e) {
      failures.push({ name: o.name, reason: reasonOf(e), error: e });
    }
  }
  throw new NotSupportedError(
    feature,
    failures.map((f) => `${f.name}: ${f.reason}`).join('; ') || 'no attach options given',
  );
}

export interface ProgramOption {
  name: string;
  /** the program in the object that this option loads */
  program: string;
  attach: (obj: BpfObject) => Link | Link[];
}

export interface LoadedProbe {
  object: BpfObject;
  links: Link[];
}

/**
 * For an object holding one program per attach option: for each option best-first, open the
 * object afresh, load only that program (so a kernel refusing one kind cannot fail the others),
 * configure it (globals, map sizes) and attach. libbpf cannot reload an object after a failed
 * load, hence the reopen.
 */
export function loadFirst(
  feature: string,
  objectPath: string,
  options: readonly ProgramOption[],
  configure: (obj: BpfObject) => void = () => {},
  openOptions: OpenOptions = {},
): AttachChoice<LoadedProbe> {
  return attachFirst<LoadedProbe>(
    feature,
    options.map((o) => ({
      name: o.name,
      attach: () => {
        const obj = new BpfObject(objectPath, openOptions);
        try {
          obj.keepOnly(o.program);
          configure(obj);
          obj.load();
          const l = o.attach(obj);
          return { object: obj, links: Array.isArray(l) ? l : [l] };
        } catch (e) {
          obj.close();
          throw e;
        }
      },
    })),
  );
}
