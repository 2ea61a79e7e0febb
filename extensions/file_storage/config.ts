// file_storage config: the Collector's option names (directory, timeout, fsync, compaction,
// create_directory) plus max_size_mib, a bound on the disk its queues may use.
import { s, type Infer } from '../../pipeline/config/schema';

export const configSchema = s.object({
  /** Where queue files live; created when missing (unless create_directory: false). */
  directory: s.string({ nonEmpty: true }),
  /** The Collector's lock-wait timeout; accepted, Sonde's queue files take no lock. */
  timeout: s.duration({ default: '1s' }),
  /** fdatasync every batch before the exporter accepts it (survives power loss, not only SIGKILL). */
  fsync: s.bool({ default: false }),
  create_directory: s.bool({ default: true }),
  /** Disk bound over every queue of this extension, in MiB; 0 = unbounded. */
  max_size_mib: s.int({ default: 1024, min: 0 }),
}, {
  ignored: {
    compaction: 'queue segments are deleted as soon as every batch in them is sent, so there is nothing to compact',
    directory_permissions: 'the directory is created with the process umask',
    recreate: 'corrupt records are skipped and counted at start instead',
  },
});

export type FileStorageConfig = Infer<typeof configSchema>;
