// file_storage: a directory on local disk for persistent sending queues, one subdirectory per
// exporter id and signal, and one disk budget (max_size_mib) shared by all of them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Settings } from '../../pipeline/component';
import { ComponentError, errorMessage } from '../../pipeline/errors';
import type { DiskBudget, QueueLocation, StorageExtension } from '../../pipeline/exporterhelper';
import type { Signal } from '../../pipeline/pdata';
import type { FileStorageConfig } from './config';

export class FileStorage implements StorageExtension {
  private readonly budget: Budget;

  constructor(private readonly settings: Settings, private readonly config: FileStorageConfig) {
    this.budget = new Budget(config.max_size_mib * 1024 * 1024);
  }

  async start(): Promise<void> {
    const dir = this.config.directory;
    if (!fs.existsSync(dir)) {
      if (!this.config.create_directory) throw this.fail(`directory ${dir} does not exist (create_directory is false)`);
      try {
        fs.mkdirSync(dir, { recursive: true });
      } catch (err) {
        throw this.fail(`cannot create directory ${dir}: ${errorMessage(err)}`);
      }
    }
    this.checkWritable(dir);
  }

  async shutdown(): Promise<void> {}

  queueLocation(ownerKind: string, ownerId: string, signal: Signal): QueueLocation {
    // `otlp/backup` -> exporter_otlp~backup/traces: one directory per queue, readable names.
    const directory = path.join(this.config.directory, `${ownerKind}_${ownerId.replace(/[^A-Za-z0-9_.-]/g, '~')}`, signal);
    try {
      fs.mkdirSync(directory, { recursive: true });
    } catch (err) {
      throw this.fail(`cannot create ${directory}: ${errorMessage(err)}`);
    }
    return { directory, fsync: this.config.fsync, budget: this.budget };
  }

  private checkWritable(dir: string): void {
    const probe = path.join(dir, `.sonde-write-check-${process.pid}`);
    try {
      fs.writeFileSync(probe, '');
      fs.rmSync(probe);
    } catch (err) {
      throw this.fail(`directory ${dir} is not writable: ${errorMessage(err)}`);
    }
  }

  private fail(message: string): ComponentError {
    return new ComponentError(this.settings.id, message);
  }
}

class Budget implements DiskBudget {
  private used = 0;

  constructor(readonly limitBytes: number) {}

  tryReserve(bytes: number): boolean {
    if (this.limitBytes > 0 && this.used + bytes > this.limitBytes) return false;
    this.used += bytes;
    return true;
  }

  claim(bytes: number): void { this.used += bytes; }
  release(bytes: number): void { this.used = Math.max(0, this.used - bytes); }
}
