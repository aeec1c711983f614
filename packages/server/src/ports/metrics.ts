/** What serving records about itself. telemetry/metrics.ts implements it with prom-client. */
export interface ServingMetrics {
  /** One successful inference of a deployment that exists, end to end (routing, checks, run). */
  inference(deployment: string, version: string, seconds: number): void;
  /** One model run of the dynamic batcher: rows along dimension 0 (a lone request counts too). */
  batch(rows: number): void;
  /** One model loaded into the runtime (read not included), warm-up included. */
  modelLoad(seconds: number): void;
}
