// Points -> remote-write TimeSeries (one per label set, samples in time order: Prometheus refuses
// a request whose samples go back in time within a series) and, when asked, MetricMetadata.
import { seriesKey, type FamilyType, type Point } from './model';
import { MetricType, type Label, type MetricMetadata, type TimeSeries } from './remote-write-proto';
import { flatten, nativeHistogram, withLabel } from './series';

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
      series(p.family.name, p.labels).histograms.push(nativeHistogram(p.value, p.timestampMs, p.stale));
    } else {
      for (const f of flatten(p)) series(f.name, f.labels).samples.push({ value: f.value, timestamp: p.timestampMs });
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
