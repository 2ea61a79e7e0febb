// The file exporter's config: the Collector's names, defaults and meanings. `rotation:` present
// with no value turns rotation on with its defaults; absent, the file grows without bound.
import { error, s, type ConfigIssue, type Infer } from '../../pipeline/config/schema';

const rotationSchema = s.object({
  /** Size that triggers a rotation; 0 means the default, as lumberjack reads it. */
  max_megabytes: s.int({ default: 100, min: 0 }),
  /** Backups older than this many days are removed; 0 = keep regardless of age. */
  max_days: s.int({ default: 0, min: 0 }),
  /** Backups kept; 0 = keep all (subject to max_days). */
  max_backups: s.int({ default: 100, min: 0 }),
  /** Backup names in local time rather than UTC. */
  localtime: s.bool({ default: false }),
});

const groupBySchema = s.object({
  enabled: s.bool({ default: false }),
  resource_attribute: s.string({ default: 'fileexporter.path_segment' }),
  max_open_files: s.int({ default: 100, min: 1 }),
});

export const configSchema = s.object({
  path: s.string({ nonEmpty: true }),
  /** json: one OTLP/JSON export request per line; proto: length-prefixed protobuf requests. */
  format: s.enum(['json', 'proto'], { default: 'json' }),
  /** false: the file is truncated on start. */
  append: s.bool({ default: false }),
  rotation: s.optional(rotationSchema),
  /** How often written data is forced to disk (fdatasync); 0 = after every write. */
  flush_interval: s.duration({ default: '1s' }),
  compression: s.string({ default: '' }),
  group_by: s.optional(groupBySchema),
});

export type FileExporterConfig = Infer<typeof configSchema>;
export type RotationConfig = NonNullable<FileExporterConfig['rotation']>;

export function validate(config: FileExporterConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const compression = config.compression.trim().toLowerCase();
  if (compression === 'zstd') {
    issues.push(error(['compression'], '"zstd" is not supported by Sonde\'s file exporter: remove the key or set it to none'));
  } else if (compression !== '' && compression !== 'none') {
    issues.push(error(['compression'], `expected none, got "${config.compression}"`));
  }
  if (config.group_by?.enabled) {
    issues.push(error(['group_by'], 'not supported: Sonde writes one file per file exporter (use several, one per path)'));
  }
  return issues;
}
