// Bounded in-flight work for the receiver: every request holds a reservation of its
// uncompressed bytes from arrival until the pipeline has answered it. A request that does not
// fit is refused at once (UNAVAILABLE / 503 + Retry-After), never queued: a queue in front of a
// slow pipeline is memory without bound, and the sender already has a retry loop.

/** Charged per request whatever its size: sockets, promises and decoded objects cost too. */
export const MIN_REQUEST_BYTES = 4096;

/** How long a refused sender is asked to wait (Retry-After is in whole seconds). */
export const ADMISSION_RETRY_AFTER_MS = 1000;

export class Admission {
  private used = 0;

  /** limitBytes 0 = no limit. */
  constructor(readonly limitBytes: number) {}

  get inFlightBytes(): number { return this.used; }

  /** A reservation of `bytes`, or undefined when it would pass the limit. */
  reserve(bytes: number): Reservation | undefined {
    const n = Math.max(MIN_REQUEST_BYTES, bytes);
    if (!this.fits(n)) return undefined;
    this.used += n;
    return new Reservation(this, n);
  }

  /** @internal for Reservation */
  fits(n: number, own = 0): boolean {
    // A single request larger than the whole limit is still admitted when nothing else is in
    // flight: the body-size limits bound it, and refusing it forever would be a livelock.
    return this.limitBytes <= 0 || this.used + n <= this.limitBytes || this.used === own;
  }

  /** @internal for Reservation */
  adjust(delta: number): void {
    this.used += delta;
  }
}

export class Reservation {
  private released = false;

  constructor(private readonly admission: Admission, private held: number) {}

  get bytes(): number { return this.held; }

  /** Grows the reservation to `total` bytes (a body read in chunks, a body inflated); false if it does not fit. */
  growTo(total: number): boolean {
    const delta = total - this.held;
    if (delta <= 0 || this.released) return true;
    if (!this.admission.fits(delta, this.held)) return false;
    this.admission.adjust(delta);
    this.held = total;
    return true;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.admission.adjust(-this.held);
  }
}
