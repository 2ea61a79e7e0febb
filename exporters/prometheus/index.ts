// The prometheus exporter factory: a /metrics endpoint for Prometheus to scrape.
import { exporterFactory } from '../../pipeline/component';
import { configSchema, validate, type PrometheusExporterConfig } from './config';
import { PrometheusExporter } from './server';

export const prometheusExporterFactory = exporterFactory<PrometheusExporterConfig>({
  kind: 'exporter',
  type: 'prometheus',
  description: 'Serves metrics on /metrics for Prometheus to scrape (text format 0.0.4 or OpenMetrics), OTel names per the compatibility spec',
  signals: { metrics: 'beta' },
  config: configSchema,
  validate,
  create: (settings, config) => new PrometheusExporter(settings, config),
});
