// Errors on the data path are classified once, where they arise: permanent (bad data, retrying
// cannot help) or retryable (back-pressure, backend down). Anything unmarked is retryable, as in
// the Collector's consumererror.

/** The data is bad: do not retry; receivers answer InvalidArgument / HTTP 400. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Refused for now (memory limit, full queue, backend down): the sender should retry. */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  /** How long the sender should wait, when known (Retry-After, RetryInfo). */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export function isPermanent(err: unknown): boolean {
  return err instanceof PermanentError;
}

export function retryAfterMs(err: unknown): number | undefined {
  return err instanceof RetryableError ? err.retryAfterMs : undefined;
}

/** A component could not start or was misconfigured; carries the component id. */
export class ComponentError extends Error {
  override readonly name = 'ComponentError';
  constructor(readonly componentId: string, message: string, options?: { cause?: unknown }) {
    super(`${componentId}: ${message}`, options);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
