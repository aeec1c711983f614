import { type Attributes, type HrTime, ValueType } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  type MetricData,
  type MetricProducer,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import type { OtlpProtocol } from '../config/config.js';

export interface OtlpMetricsOptions {
  protocol: OtlpProtocol;
  intervalMs: number;
  resource: Resource;
  version: string;
  /** Tests pass their own exporter; otherwise OTLP as the standard OTEL_EXPORTER_OTLP_* variables say. */
  exporter?: PushMetricExporter;
}

/**
 * Pushes the metrics of `/metrics` over OTLP as well. The Prometheus registry stays the one source
 * of truth (the same names, help texts, labels and buckets in both places): a MetricProducer turns
 * each scrape of it into OTLP data, cumulative like Prometheus, and a periodic reader sends it.
 */
export function startOtlpMetrics(
  registry: Registry,
  options: OtlpMetricsOptions,
): { shutdown(): Promise<void> } {
  const exporter =
    options.exporter ?? (options.protocol === 'grpc' ? new GrpcMetricExporter() : new ProtoMetricExporter());
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: options.intervalMs,
    exportTimeoutMillis: Math.min(30_000, options.intervalMs),
    metricProducers: [prometheusProducer(registry, options)],
  });
  // The provider has no meters of its own: it only drives the reader (and its final flush on shutdown).
  const provider = new MeterProvider({ resource: options.resource, readers: [reader] });
  return { shutdown: () => provider.shutdown() };
}

function prometheusProducer(
  registry: Registry,
  options: Pick<OtlpMetricsOptions, 'resource' | 'version'>,
): MetricProducer {
  const start = hrTime();
  return {
    async collect() {
      const now = hrTime();
      const families = await registry.getMetricsAsJSON();
      const metrics = families.flatMap((f) => toOtlp(f, start, now));
      return {
        resourceMetrics: {
          resource: options.resource,
          scopeMetrics: [{ scope: { name: 'quiver', version: options.version }, metrics }],
        },
        errors: [],
      };
    },
  };
}

/** One Prometheus family as OTLP data: counters as monotonic sums, gauges, explicit-bucket histograms. */
export function toOtlp(
  family: MetricObjectWithValues<MetricValue<string>>,
  start: HrTime,
  now: HrTime,
): MetricData[] {
  const descriptor = { name: family.name, description: family.help, unit: '', valueType: ValueType.DOUBLE };
  const point = <T>(attributes: Attributes, value: T) => ({
    startTime: start,
    endTime: now,
    attributes,
    value,
  });
  const base = { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE };
  const type = String(family.type);
  if (type === 'counter') {
    const dataPoints = family.values.map((v) => point(v.labels, v.value));
    return [{ ...base, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints }];
  }
  if (type === 'gauge') {
    const dataPoints = family.values
      .filter((v) => !Number.isNaN(v.value))
      .map((v) => point(v.labels, v.value));
    return [{ ...base, dataPointType: DataPointType.GAUGE, dataPoints }];
  }
  if (type === 'histogram')
    return [{ ...base, dataPointType: DataPointType.HISTOGRAM, dataPoints: histogramPoints(family, point) }];
  return [];
}

/** Prometheus histograms are cumulative `_bucket{le}` series plus `_sum` and `_count`, per label set. */
function histogramPoints(
  family: MetricObjectWithValues<MetricValue<string>>,
  point: <T>(
    attributes: Attributes,
    value: T,
  ) => { startTime: HrTime; endTime: HrTime; attributes: Attributes; value: T },
) {
  const series = new Map<
    string,
    { labels: Attributes; les: [number, number][]; sum: number; count: number }
  >();
  for (const v of family.values) {
    const { le, ...labels } = v.labels as Record<string, string | number>;
    const key = JSON.stringify(labels);
    let s = series.get(key);
    if (!s) {
      s = { labels, les: [], sum: 0, count: 0 };
      series.set(key, s);
    }
    const metricName = (v as { metricName?: string }).metricName ?? '';
    if (metricName.endsWith('_bucket'))
      s.les.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), v.value]);
    else if (metricName.endsWith('_sum')) s.sum = v.value;
    else if (metricName.endsWith('_count')) s.count = v.value;
  }
  return [...series.values()].map((s) => {
    const les = s.les.sort((a, b) => a[0] - b[0]);
    const boundaries = les.filter(([le]) => Number.isFinite(le)).map(([le]) => le);
    // OTLP counts are per bucket (the last one above every boundary); Prometheus' are cumulative.
    const counts = les.map(([, c], i) => c - (i > 0 ? les[i - 1]![1] : 0));
    if (counts.length === boundaries.length) counts.push(s.count - (les.at(-1)?.[1] ?? 0));
    return point(s.labels, { buckets: { boundaries, counts }, sum: s.sum, count: s.count });
  });
}
