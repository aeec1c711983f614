declare module 'parse-prometheus-text-format' {
  /** Parses the Prometheus text exposition format into prom2json's shape. Throws on invalid lines. */
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
