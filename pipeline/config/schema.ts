// Config schemas as small typed combinators. A schema reads a plain value (already parsed from
// YAML and env-expanded), applies defaults and reports every problem with its key path; the
// loader turns paths into file:line:column. Types are inferred from the schema, so a
// component's config type and its validation cannot drift apart.
import { nearest } from './suggest';

export type Path = readonly (string | number)[];

export interface ConfigIssue {
  path: Path;
  message: string;
  /** Point at the key itself rather than its value (unknown keys, deprecated keys). */
  atKey?: boolean;
  severity: 'error' | 'warning';
}

export interface Schema<T> {
  /** What a valid value looks like, for messages ("a duration such as 5s"). */
  readonly expected: string;
  /** The value used when the key is absent; undefined means the key is required. */
  readonly fallback: (() => T) | undefined;
  read(value: unknown, path: Path, issues: ConfigIssue[]): T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

export function error(path: Path, message: string, atKey = false): ConfigIssue {
  return { path, message, atKey, severity: 'error' };
}
export function warning(path: Path, message: string, atKey = false): ConfigIssue {
  return { path, message, atKey, severity: 'warning' };
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value}"`;
  return String(value);
}

function scalar<T>(expected: string, def: T | undefined, check: (v: unknown) => T | undefined): Schema<T> {
  return {
    expected,
    fallback: def === undefined ? undefined : () => def,
    read(value, path, issues) {
      const v = check(value);
      if (v === undefined) {
        issues.push(error(path, `expected ${expected}, got ${describe(value)}`));
        return def as T;
      }
      return v;
    },
  };
}

interface NumberOptions<D> { default?: D; min?: number; max?: number }

function numeric(kind: 'an integer' | 'a number', opts: NumberOptions<number>): Schema<number> {
  const bounds = opts.min !== undefined && opts.max !== undefined ? ` from ${opts.min} to ${opts.max}`
    : opts.min !== undefined ? ` >= ${opts.min}` : opts.max !== undefined ? ` <= ${opts.max}` : '';
  const base = scalar<number>(kind + bounds, opts.default, (v) => {
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n)) return undefined;
    if (kind === 'an integer' && !Number.isInteger(n)) return undefined;
    return n;
  });
  return {
    ...base,
    read(value, path, issues) {
      const n = base.read(value, path, issues);
      if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
        issues.push(error(path, `expected ${kind}${bounds}, got ${n}`));
      }
      return n;
    },
  };
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses Go-style durations ("5s", "1m30s", "200ms") to milliseconds. */
export function parseDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  const t = text.trim();
  if (t === '0') return 0;
  let total = 0;
  let pos = 0;
  while (pos < t.length) {
    re.lastIndex = pos;
    const m = re.exec(t);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  return pos > 0 ? total : undefined;
}

export const s = {
  string(opts: { default?: string; nonEmpty?: boolean } = {}): Schema<string> {
    const base = scalar<string>('a string', opts.default, (v) =>
      typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
    if (!opts.nonEmpty) return base;
    return {
      ...base,
      expected: 'a non-empty string',
      read(value, path, issues) {
        const v = base.read(value, path, issues);
        if (v === '') issues.push(error(path, 'expected a non-empty string'));
        return v;
      },
    };
  },

  int(opts: NumberOptions<number> = {}): Schema<number> { return numeric('an integer', opts); },
  number(opts: NumberOptions<number> = {}): Schema<number> { return numeric('a number', opts); },

  bool(opts: { default?: boolean } = {}): Schema<boolean> {
    return scalar<boolean>('true or false', opts.default, (v) =>
      typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : undefined);
  },

  /** Go-style duration ("5s", "200ms"), read as milliseconds. A bare 0 is allowed. */
  duration(opts: { default?: string | number } = {}): Schema<number> {
    const def = typeof opts.default === 'string' ? parseDuration(opts.default) : opts.default;
    return scalar<number>('a duration such as 5s or 200ms', def, (v) =>
      v === 0 ? 0 : typeof v === 'string' ? parseDuration(v) : undefined);
  },

  enum<const V extends string>(values: readonly V[], opts: { default?: V } = {}): Schema<V> {
    const expected = `one of ${values.join(', ')}`;
    return {
      expected,
      fallback: opts.default === undefined ? undefined : () => opts.default as V,
      read(value, path, issues) {
        const v = typeof value === 'string' ? value.toLowerCase() : value;
        if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as V;
        const hint = typeof value === 'string' ? nearest(value, values) : undefined;
        issues.push(error(path, `expected ${expected}, got ${describe(value)}` + (hint ? ` (did you mean "${hint}"?)` : '')));
        return (opts.default ?? values[0]) as V;
      },
    };
  },

  /** A key that may be absent: undefined then. */
  optional<T>(inner: Schema<T>): Schema<T | undefined> {
    return { expected: inner.expected, fallback: () => undefined, read: (v, p, i) => inner.read(v, p, i) };
  },

  array<T>(items: Schema<T>, opts: { default?: T[] } = {}): Schema<T[]> {
    return {
      expected: `a list of ${items.expected}`,
      fallback: () => (opts.default ? [...opts.default] : []),
      read(value, path, issues) {
        if (value === null || value === undefined) return opts.default ? [...opts.default] : [];
        if (!Array.isArray(value)) {
          issues.push(error(path, `expected a list, got ${describe(value)}`));
          return [];
        }
        return value.map((v, i) => items.read(v, [...path, i], issues));
      },
    };
  },

  /** A mapping from free-form keys to values (headers, attributes). */
  map<T>(values: Schema<T>): Schema<Record<string, T>> {
    return {
      expected: `a mapping to ${values.expected}`,
      fallback: () => ({}),
      read(value, path, issues) {
        if (value === null || value === undefined) return {};
        if (typeof value !== 'object' || Array.isArray(value)) {
          issues.push(error(path, `expected a mapping, got ${describe(value)}`));
          return {};
        }
        const out: Record<string, T> = {};
        for (const [k, v] of Object.entries(value)) out[k] = values.read(v, [...path, k], issues);
        return out;
      },
    };
  },

  /** Any value, unchecked (for pass-through blocks). */
  unknown(): Schema<unknown> {
    return { expected: 'any value', fallback: () => undefined, read: (v) => v };
  },

  object<F extends Record<string, Schema<unknown>>>(fields: F, opts: ObjectOptions = {}): Schema<{ [K in keyof F]: Infer<F[K]> }> {
    return objectSchema(fields, opts);
  },
};

export interface ObjectOptions {
  /** Old key names still accepted, with a deprecation warning: old -> new. */
  renamed?: Record<string, string>;
  /** Keys accepted and ignored with a warning (options Sonde does not implement). */
  ignored?: Record<string, string>;
}

function objectSchema<F extends Record<string, Schema<unknown>>>(fields: F, opts: ObjectOptions): Schema<{ [K in keyof F]: Infer<F[K]> }> {
  type Out = { [K in keyof F]: Infer<F[K]> };
  const names = Object.keys(fields);
  const schema: Schema<Out> = {
    expected: 'a mapping',
    // A missing block means "with defaults"; it is required only when some key has no default.
    fallback: names.every((n) => fields[n]!.fallback !== undefined) ? () => schema.read({}, [], []) : undefined,
    read(value, path, issues) {
      const out: Record<string, unknown> = {};
      // `grpc:` with no value means "on, with defaults", never off.
      const input: Record<string, unknown> = value === null || value === undefined ? {} : (value as Record<string, unknown>);
      if (typeof input !== 'object' || Array.isArray(input)) {
        issues.push(error(path, `expected a mapping, got ${describe(value)}`));
        for (const n of names) out[n] = fields[n]!.fallback?.();
        return out as Out;
      }
      const seen = new Map<string, unknown>();
      for (const [key, v] of Object.entries(input)) {
        if (key in fields) {
          seen.set(key, v);
        } else if (opts.renamed && key in opts.renamed) {
          const to = opts.renamed[key]!;
          issues.push(warning([...path, key], `"${key}" is deprecated, use "${to}"`, true));
          if (!(to in input)) seen.set(to, v);
        } else if (opts.ignored && key in opts.ignored) {
          issues.push(warning([...path, key], `"${key}" is ignored: ${opts.ignored[key]}`, true));
        } else {
          const hint = nearest(key, names);
          issues.push(error([...path, key], `unknown key "${key}"` + (hint ? ` (did you mean "${hint}"?)` : `; valid keys: ${names.join(', ')}`), true));
        }
      }
      for (const n of names) {
        const f = fields[n]!;
        if (seen.has(n)) {
          out[n] = f.read(seen.get(n), [...path, n], issues);
        } else if (f.fallback) {
          out[n] = f.fallback();
        } else {
          issues.push(error(path, `missing required key "${n}" (${f.expected})`));
          out[n] = undefined;
        }
      }
      return out as Out;
    },
  };
  return schema;
}

/** Reads a value against a schema and returns it with every issue found. */
export function readConfig<T>(schema: Schema<T>, value: unknown, path: Path = []): { value: T; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const v = schema.read(value, path, issues);
  return { value: v, issues };
}
