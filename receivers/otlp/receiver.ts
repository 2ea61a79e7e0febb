// The otlp receiver: one instance serves every signal it was given a consumer for, over gRPC,
// HTTP or both.
import type { Component, Host, Settings, SignalConsumers } from '../../pipeline/component';
import { ComponentError } from '../../pipeline/errors';
import type { OtlpReceiverConfig } from './config';
import { GrpcIntake } from './grpc-server';
import { HttpIntake } from './http-server';
import { Admission } from './admission';
import { Intake } from './intake';

/** How long shutdown waits for requests in progress before cutting them. */
const DRAIN_MS = 10_000;

export class OtlpReceiver implements Component {
  private readonly intake: Intake;
  private readonly grpc: GrpcIntake | undefined;
  private readonly http: HttpIntake | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly settings: Settings, config: OtlpReceiverConfig, next: SignalConsumers, private readonly drainMs = DRAIN_MS) {
    this.intake = new Intake(settings, next, new Admission(Math.floor(config.admission.request_limit_mib * 1024 * 1024)));
    const { grpc, http } = config.protocols;
    if (grpc) this.grpc = new GrpcIntake(grpc, this.intake);
    if (http) this.http = new HttpIntake(http, this.intake, settings.logger);
  }

  /** The bound gRPC address (host:port), once started; for tests that listen on port 0. */
  grpcAddress(): string | undefined { return this.grpc?.address; }
  /** The bound HTTP address (host:port), once started. */
  httpAddress(): string | undefined { return this.http?.address; }

  async start(_host?: Host): Promise<void> {
    const fields: Record<string, string> = {};
    try {
      if (this.grpc) fields.grpc = await this.grpc.start();
      if (this.http) fields.http = await this.http.start();
    } catch (err) {
      // Leave nothing listening when one of the two fails.
      await this.close();
      throw new ComponentError(this.settings.id, (err as Error).message, { cause: err });
    }
    this.settings.logger.info('otlp receiver listening', fields);
  }

  shutdown(): Promise<void> {
    this.stopping ??= this.stop();
    return this.stopping;
  }

  private async stop(): Promise<void> {
    const wasRunning = this.grpc?.address !== undefined || this.http?.address !== undefined;
    await this.close();
    if (wasRunning) this.settings.logger.info('otlp receiver stopped');
  }

  private async close(): Promise<void> {
    await Promise.all([this.grpc?.stop(this.drainMs), this.http?.stop(this.drainMs)]);
  }
}
