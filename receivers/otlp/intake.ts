// What both protocols do with a decoded request: hand it to the signal's consumer, count it, and
// turn the consumer's answer into an outcome each protocol maps onto its own status codes.
import type { Consumer, Settings, SignalConsumers } from '../../pipeline/component';
import { errorMessage, isPermanent, retryAfterMs } from '../../pipeline/errors';
import { countItems, type Signal, type SignalData } from '../../pipeline/pdata';
import { ADMISSION_RETRY_AFTER_MS, type Admission, type Reservation } from './admission';

export type Outcome =
  | { kind: 'accepted' }
  /** Bad data: retrying cannot help (gRPC INVALID_ARGUMENT, HTTP 400). */
  | { kind: 'invalid'; message: string }
  /** Refused for now (gRPC UNAVAILABLE, HTTP 503). */
  | { kind: 'refused'; message: string; retryAfterMs: number | undefined };

export class Intake {
  constructor(private readonly settings: Settings, private readonly consumers: SignalConsumers, private readonly admission: Admission) {
    settings.telemetry.observeGauge('receiver_in_flight_bytes', 'uncompressed bytes of requests in flight (admission.request_limit_mib)', () => admission.inFlightBytes);
  }

  /** Reserves room for a request of `bytes`; undefined (refused, counted) when in-flight work is at its limit. */
  admit(signal: Signal, protocol: 'grpc' | 'http', bytes: number): Reservation | undefined {
    const r = this.admission.reserve(bytes);
    if (!r) this.refusedAtAdmission(signal, protocol);
    return r;
  }

  /** A request refused before decoding: its items are unknown, so it is counted as a request. */
  refusedAtAdmission(signal: Signal, protocol: 'grpc' | 'http'): void {
    this.settings.telemetry.count('receiver_refused_requests', 1, { signal, protocol, reason: 'request_limit' });
  }

  /** The refusal every protocol gives when in-flight work is at its limit. */
  admissionRefusal(): Extract<Outcome, { kind: 'refused' }> {
    const mib = Math.round(this.admission.limitBytes / 1048576);
    return { kind: 'refused', message: `${this.settings.id}: too much data in flight (admission.request_limit_mib ${mib}), retry later`, retryAfterMs: ADMISSION_RETRY_AFTER_MS };
  }

  /** Signals this instance was given a consumer for; others answer UNIMPLEMENTED / 404. */
  serves(signal: Signal): boolean {
    return this.consumers[signal] !== undefined;
  }

  async deliver<S extends Signal>(signal: S, data: SignalData[S]): Promise<Outcome> {
    const consumer = this.consumers[signal] as Consumer<SignalData[S]> | undefined;
    if (!consumer) return { kind: 'invalid', message: `${signal} are not accepted by ${this.settings.id}` };
    const items = countItems(signal, data);
    try {
      await consumer.consume(data);
      this.settings.telemetry.accepted(signal, items);
      return { kind: 'accepted' };
    } catch (err) {
      this.settings.telemetry.refused(signal, items);
      const message = errorMessage(err);
      return isPermanent(err) ? { kind: 'invalid', message } : { kind: 'refused', message, retryAfterMs: retryAfterMs(err) };
    }
  }

  /** A request that could not be decoded: counted, never logged one by one. */
  malformed(signal: Signal, protocol: 'grpc' | 'http'): void {
    this.settings.telemetry.count('malformed_requests', 1, { signal, protocol });
  }
}
