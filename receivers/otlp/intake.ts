// What both protocols do with a decoded request: hand it to the signal's consumer, count it, and
// turn the consumer's answer into an outcome each protocol maps onto its own status codes.
import type { Consumer, Settings, SignalConsumers } from '../../pipeline/component';
import { errorMessage, isPermanent, retryAfterMs } from '../../pipeline/errors';
import { countItems, type Signal, type SignalData } from '../../pipeline/pdata';

export type Outcome =
  | { kind: 'accepted' }
  /** Bad data: retrying cannot help (gRPC INVALID_ARGUMENT, HTTP 400). */
  | { kind: 'invalid'; message: string }
  /** Refused for now (gRPC UNAVAILABLE, HTTP 503). */
  | { kind: 'refused'; message: string; retryAfterMs: number | undefined };

export class Intake {
  constructor(private readonly settings: Settings, private readonly consumers: SignalConsumers) {}

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
