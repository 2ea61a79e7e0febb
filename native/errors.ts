// Typed errors of the eBPF runtime. No dependency on the addon: code that only wants to recognise
// these (receivers, the CLI) can import this module where the addon is not built.

/** A kernel feature Sonde needs is not available here; tests skip on it, receivers fail start. */
export class NotSupportedError extends Error {
  override readonly name = 'NotSupportedError';
  constructor(
    /** what is missing: "kprobe", "fentry", "eBPF addon", "BTF"... */
    readonly feature: string,
    /** why, as the kernel or the probe said it */
    readonly reason: string,
    /** the first kernel version known to have it, when that is the whole story */
    readonly minKernel?: string,
    options?: { cause?: unknown },
  ) {
    super(`${feature} is not supported here: ${reason}`, options);
  }
}

/** A libbpf / kernel call failed. The message names the operation, program and attach point. */
export class BpfError extends Error {
  override readonly name: string = 'BpfError';
  constructor(
    message: string,
    /** positive errno, e.g. 1 */
    readonly errno: number,
    /** errno name, e.g. "EPERM" */
    readonly code: string,
    /** "load", "attach uprobe", "map lookup"... */
    readonly op: string,
    /** program, object or map the operation was about */
    readonly program: string,
    /** "syscalls/sys_enter_write", "/usr/bin/x:main", or "" */
    readonly attachPoint: string,
    /** what libbpf logged during the operation */
    readonly libbpfLog: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The verifier refused a program; `verifierLog` is its explanation. */
export class VerifierError extends BpfError {
  override readonly name = 'VerifierError';
  constructor(
    message: string,
    errno: number,
    code: string,
    op: string,
    program: string,
    libbpfLog: string,
    readonly verifierLog: string,
    options?: { cause?: unknown },
  ) {
    super(message, errno, code, op, program, '', libbpfLog, options);
  }
}

/** The addon could not be loaded; `tried` lists every path looked at. */
export class AddonLoadError extends Error {
  override readonly name = 'AddonLoadError';
  constructor(
    message: string,
    readonly tried: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
