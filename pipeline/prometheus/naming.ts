// OTel -> Prometheus names, per the OpenTelemetry "Prometheus and OpenMetrics compatibility"
// spec and the Collector's translator (its NormalizeName behaviour, on by default there):
// metric names are cut into alphanumeric tokens joined by "_", the UCUM unit becomes a suffix
// (By -> bytes, s -> seconds, {request} -> nothing, 1 -> _ratio on gauges), monotonic sums get
// _total; label names get invalid characters replaced and a key_ prefix before a digit.

/** The parts of a metric that decide its name. */
export interface NameInput {
  name: string;
  unit: string;
  /** counter: a monotonic sum; gauge: a gauge or non-monotonic sum; everything else: other. */
  kind: 'counter' | 'gauge' | 'other';
}

export interface NamingOptions {
  /** Prefixed with "_" (the Collector's `namespace`). */
  namespace: string;
  /** Unit, _total and _ratio suffixes (the Collector's `add_metric_suffixes`, default true). */
  addMetricSuffixes: boolean;
}

const UNITS: Record<string, string> = {
  // time
  d: 'days', h: 'hours', min: 'minutes', s: 'seconds', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds',
  // bytes
  By: 'bytes', KiBy: 'kibibytes', MiBy: 'mebibytes', GiBy: 'gibibytes', TiBy: 'tibibytes',
  KBy: 'kilobytes', MBy: 'megabytes', GBy: 'gigabytes', TBy: 'terabytes',
  // SI
  m: 'meters', V: 'volts', A: 'amperes', J: 'joules', W: 'watts', g: 'grams',
  // misc
  Cel: 'celsius', Hz: 'hertz', '%': 'percent',
};

/** The denominator of "X/Y" units. */
const PER_UNITS: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year' };

const VALID_METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const VALID_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Splits on everything that is not a letter or digit (":" included: it is for recording rules). */
function tokens(text: string): string[] {
  return text.split(/[^a-zA-Z0-9]+/).filter((t) => t !== '');
}

/** A unit part as Prometheus spells it: mapped, or its own tokens; units with "{...}" vanish. */
function unitWord(unit: string, map: Record<string, string>): string {
  const u = unit.trim();
  if (u === '' || /[{}]/.test(u)) return '';
  return tokens(map[u] ?? u).join('_');
}

/** The unit words of a UCUM unit: "By" -> {main: bytes}, "By/s" -> {main: bytes, per: second}. */
export function unitSuffix(unit: string): { main: string; per: string } {
  if (unit === '1') return { main: '', per: '' };
  const slash = unit.indexOf('/');
  const main = unitWord(slash < 0 ? unit : unit.slice(0, slash), UNITS);
  const per = slash < 0 ? '' : unitWord(unit.slice(slash + 1), PER_UNITS);
  return { main, per };
}

/**
 * The Prometheus metric name, or '' when nothing valid is left of it (the caller drops the metric
 * and counts it). With suffixes: the name's tokens, the unit unless the name already holds it,
 * "per_<unit>" likewise, then _total for counters or _ratio for unit-1 gauges (an existing
 * "total"/"ratio" token moves to the end). Without: invalid characters become "_" and runs of
 * "_" collapse, the spec's minimum. A leading digit gets "_".
 */
export function metricName(m: NameInput, opts: NamingOptions): string {
  let name: string;
  if (opts.addMetricSuffixes) {
    let words = tokens(m.name);
    const { main, per } = unitSuffix(m.unit);
    if (main && !words.includes(main)) words.push(main);
    if (per && !words.includes(per)) words.push('per', per);
    if (m.kind === 'counter') words = [...words.filter((w) => w !== 'total'), 'total'];
    if (m.kind === 'gauge' && m.unit === '1') words = [...words.filter((w) => w !== 'ratio'), 'ratio'];
    if (opts.namespace) words.unshift(...tokens(opts.namespace));
    name = words.join('_');
  } else {
    name = sanitizeMetricName(opts.namespace ? `${opts.namespace}_${m.name}` : m.name);
  }
  if (/^_*$/.test(name)) return '';
  if (/^[0-9]/.test(name)) name = `_${name}`;
  return VALID_METRIC.test(name) ? name : '';
}

/** Invalid characters -> "_", runs of "_" -> one. Keeps ":" (valid in metric names). */
export function sanitizeMetricName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_:]/gu, '_').replace(/__+/g, '_');
}

/**
 * A label name from an attribute key: invalid characters -> "_", a leading digit gets "key_".
 * "__" at the start is reserved for Prometheus: such keys get "key" in front. '' stays ''
 * (dropped by the caller).
 */
export function labelName(key: string): string {
  if (key === '') return '';
  if (VALID_LABEL.test(key) && !key.startsWith('__')) return key;
  let out = key.replace(/[^a-zA-Z0-9_]/gu, '_');
  if (/^[0-9]/.test(out)) out = `key_${out}`;
  else if (out.startsWith('__')) out = `key${out}`;
  return out;
}

/** Label names Prometheus reserves that attributes must not produce. */
export function isValidLabelName(name: string): boolean {
  return VALID_LABEL.test(name);
}
