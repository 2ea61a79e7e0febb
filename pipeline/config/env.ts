// Env substitution on one parsed YAML string. Only braced references expand: `${env:NAME}`,
// `${NAME}`, each with an optional `:-default`; `$$` is a literal `$`; `$NAME` stays as written.
// The result is never scanned again, so a value holding `$` or `${...}` survives untouched.

export interface EnvProblem { severity: 'error' | 'warning'; message: string }

export interface Expansion {
  value: string;
  /** True when the whole string was a single reference (the caller may re-type it). */
  whole: boolean;
  /** True when at least one reference was substituted. */
  substituted: boolean;
  problems: EnvProblem[];
}

const REFERENCE = /^(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^]*))?$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

export function expandEnv(text: string, env: NodeJS.ProcessEnv): Expansion {
  const out: string[] = [];
  const problems: EnvProblem[] = [];
  let substituted = false;
  let whole = false;
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) { out.push(text.slice(i)); break; }
    out.push(text.slice(i, dollar));
    const next = text[dollar + 1];
    if (next === '$') { out.push('$'); i = dollar + 2; continue; }
    if (next !== '{') { out.push('$'); i = dollar + 1; continue; }
    const close = text.indexOf('}', dollar + 2);
    if (close < 0) {
      problems.push({ severity: 'error', message: `unterminated reference "${text.slice(dollar)}" (write $$ for a literal $)` });
      out.push(text.slice(dollar));
      break;
    }
    const inner = text.slice(dollar + 2, close);
    out.push(resolve(inner, env, problems));
    substituted = true;
    whole = dollar === 0 && close === text.length - 1;
    i = close + 1;
  }
  return { value: out.join(''), whole, substituted, problems };
}

function resolve(inner: string, env: NodeJS.ProcessEnv, problems: EnvProblem[]): string {
  const m = REFERENCE.exec(inner);
  if (!m) {
    problems.push({
      severity: 'error',
      message: SCHEME.test(inner) && !inner.startsWith('env:')
        ? `unsupported reference "\${${inner}}": only \${env:NAME} and \${NAME} expand (write $\${...} for a literal)`
        : `invalid reference "\${${inner}}": a variable name is a letter or "_" followed by letters, digits or "_"`,
    });
    return `\${${inner}}`;
  }
  const [, name, fallback] = m;
  const value = env[name!];
  if (value !== undefined) return value;
  // As in the Collector, the default applies when the variable is unset (not when it is empty).
  if (fallback !== undefined) return fallback;
  problems.push({ severity: 'warning', message: `environment variable "${name}" is not set; using ""` });
  return '';
}
