// The debug exporter's config (and that of its old name, `logging`): the Collector's names and
// defaults. The old `loglevel` key still loads, read as the verbosity it stood for.
import { error, s, warning, type Infer, type Schema } from '../../pipeline/config/schema';
import { nearest } from '../../pipeline/config/suggest';

export type Verbosity = 'basic' | 'normal' | 'detailed';

const VERBOSITIES: readonly Verbosity[] = ['basic', 'normal', 'detailed'];

/** The `logging` exporter's loglevel values and the verbosity each meant. */
const FROM_LOGLEVEL: Readonly<Record<string, Verbosity>> = { debug: 'detailed', info: 'normal', warn: 'basic', warning: 'basic', error: 'basic' };

/** basic|normal|detailed; a loglevel value (arriving through the `loglevel` rename) maps across. */
const verbositySchema: Schema<Verbosity> = {
  expected: `one of ${VERBOSITIES.join(', ')}`,
  fallback: () => 'basic',
  read(value, path, issues) {
    const v = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
    if (v !== undefined && (VERBOSITIES as readonly string[]).includes(v)) return v as Verbosity;
    if (v !== undefined && v in FROM_LOGLEVEL) {
      const mapped = FROM_LOGLEVEL[v]!;
      issues.push(warning(path, `loglevel "${v}" is read as verbosity "${mapped}"`));
      return mapped;
    }
    const hint = typeof value === 'string' ? nearest(value, VERBOSITIES) : undefined;
    issues.push(error(path, `expected one of ${VERBOSITIES.join(', ')}, got ${JSON.stringify(value ?? null)}` + (hint ? ` (did you mean "${hint}"?)` : '')));
    return 'basic';
  },
};

export const configSchema = s.object({
  verbosity: verbositySchema,
  /** Batches written per second per signal before sampling starts. */
  sampling_initial: s.int({ default: 2, min: 0 }),
  /** After that, one batch in this many is written; 0 = none until the next second. */
  sampling_thereafter: s.int({ default: 1, min: 0 }),
}, {
  renamed: { loglevel: 'verbosity' },
  ignored: { use_internal_logger: 'output always goes to stdout, apart from Sonde\'s own logs on stderr' },
});

export type DebugConfig = Infer<typeof configSchema>;
