// The OTel -> Prometheus translation both Prometheus exporters share.
export { CumulativeTracker } from './cumulative';
export { STALE_NAN, isStaleNaN, seriesKey } from './model';
export type { Family, FamilyType, Point, PointValue, PromLabel } from './model';
export { labelName, metricName, sanitizeMetricName, unitSuffix } from './naming';
export type { NamingOptions } from './naming';
export { encodeWriteRequest, splitWriteRequests } from './remote-write-proto';
export type { MetricMetadata, TimeSeries, WriteRequest } from './remote-write-proto';
export { toTimeSeries } from './remote-write';
export { OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, writeText } from './text';
export { translate } from './translate';
export type { DropFunc, TranslateOptions } from './translate';
