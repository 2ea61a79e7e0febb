// Points -> remote-write TimeSeries (one per label set, samples in time order: Prometheus refuses
// a request whose samples go back in time within a series) and, when asked, MetricMetadata.
import { seriesKey, type FamilyType, type Point, type PromExemplar } from './model';
import { MetricType, type Exemplar, type Label, type MetricMetadata, type TimeSeries } from './remote-write-proto';
import { flatten, nativeHistogram, withLabel, type FlatSample } from './series';

const METADATA_TYPE: Record<FamilyType, MetricType> = {
  counter: MetricType.COUNTER,
  gauge: MetricType.GAUGE,
  histogram: MetricType.HISTOGRAM,
  summary: MetricType.SUMMARY,
  unknown: MetricType.UNKNOWN,
  // As the Collector sends target_info.
  info: MetricType.GAUGE,
};

export interface RemoteWriteOptions {
  /** Exponential histograms as native histograms (else as classic le buckets). */
  nativeHistograms: boolean;
  metadata: boolean;
}

export function toTimeSeries(points: readonly Point[], opts: RemoteWriteOptions): { timeseries: TimeSeries[]; metadata: MetricMetadata[] } {
  const byKey = new Map<string, TimeSeries>();
  const series = (name: string, labels: readonly Label[]): TimeSeries => {
    const key = seriesKey(name, labels);
    let ts = byKey.get(key);
    if (!ts) {
      ts = { labels: withLabel(labels, '__name__', name), samples: [], exemplars: [], histograms: [] };
      byKey.set(key, ts);
    }
    return ts;
  };
  const metadata = new Map<string, MetricMetadata>();
  for (const p of points) {
    if (p.value.kind === 'exponential' && opts.nativeHistograms) {
      const ts = series(p.family.name, p.labels);
      ts.histograms.push(nativeHistogram(p.value, p.timestampMs, p.stale));
      for (const e of p.exemplars) ts.exemplars.push(exemplar(e, p.timestampMs));
    } else {
      const flat = flatten(p);
      const written = flat.map((f) => {
        const ts = series(f.name, f.labels);
        ts.samples.push({ value: f.value, timestamp: p.timestampMs });
        return ts;
      });
      // Counters and gauges carry their exemplars; histograms on the first bucket holding the value.
      for (const e of p.exemplars) {
        const i = exemplarSeries(flat, e.value);
        if (i >= 0) written[i]!.exemplars.push(exemplar(e, p.timestampMs));
      }
    }
    if (opts.metadata && !metadata.has(p.family.name)) {
      metadata.set(p.family.name, { type: METADATA_TYPE[p.family.type], metricFamilyName: p.family.name, help: p.family.help, unit: p.family.unit });
    }
  }
  const timeseries = [...byKey.values()];
  for (const ts of timeseries) {
    if (ts.samples.length > 1) ts.samples = lastPerTimestamp(ts.samples.sort((a, b) => a.timestamp - b.timestamp));
    if (ts.histograms.length > 1) ts.histograms.sort((a, b) => a.timestamp - b.timestamp);
  }
  return { timeseries, metadata: [...metadata.values()] };
}

/** Two values at one timestamp are a "duplicate sample" error in Prometheus: the later one wins. */
function lastPerTimestamp<T extends { timestamp: number }>(sorted: T[]): T[] {
  const out: T[] = [];
  for (const s of sorted) {
    if (out.length && out[out.length - 1]!.timestamp === s.timestamp) out[out.length - 1] = s;
    else out.push(s);
  }
  return out;
}

function exemplar(e: PromExemplar, pointMs: number): Exemplar {
  return { labels: e.labels, value: e.value, timestamp: e.timestampMs || pointMs };
}

/** Which flat series an exemplar goes on: the number itself, or the first bucket whose le holds it. */
function exemplarSeries(flat: readonly FlatSample[], value: number): number {
  if (flat.length === 1) return 0;
  for (let i = 0; i < flat.length; i++) {
    const f = flat[i]!;
    if (!f.name.endsWith('_bucket')) continue;
    const le = f.labels.find((l) => l.name === 'le')?.value;
    if (le === '+Inf' || (le !== undefined && value <= Number(le))) return i;
  }
  return -1;
}
