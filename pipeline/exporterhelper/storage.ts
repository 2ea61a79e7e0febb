// What a persistent sending queue needs from a storage extension (file_storage): a directory of
// its own and a disk budget shared by every queue on that extension. Defined here so exporters
// and the extension meet through pipeline/ without importing each other.
import type { Component } from '../component';
import type { Signal } from '../pdata';

/** Bytes on disk shared by the queues of one storage extension. */
export interface DiskBudget {
  /** Takes `bytes` from the budget, or returns false (nothing taken) when they do not fit. */
  tryReserve(bytes: number): boolean;
  /** Counts bytes already on disk at start (they may exceed the limit). */
  claim(bytes: number): void;
  release(bytes: number): void;
  /** 0 = unbounded. */
  readonly limitBytes: number;
}

export interface QueueLocation {
  /** Created and owned by one queue: one exporter id and signal. */
  directory: string;
  /** fdatasync each batch before consume() resolves. */
  fsync: boolean;
  budget: DiskBudget;
}

export interface StorageExtension extends Component {
  /** The directory for one queue; throws (with the extension id) when it cannot be created. */
  queueLocation(ownerKind: string, ownerId: string, signal: Signal): QueueLocation;
}

export function isStorageExtension(c: Component | undefined): c is StorageExtension {
  return typeof (c as StorageExtension | undefined)?.queueLocation === 'function';
}
