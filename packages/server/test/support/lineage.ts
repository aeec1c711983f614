import { expect } from 'vitest';
import type { Client } from './api.js';

/** Builders for lineage tests through the REST API. */
export function lineageBuilders(api: Client) {
  let seq = 0;
  const hex = () => (++seq).toString(16).padStart(64, '0');
  return {
    async dataset(ns: string, id: string) {
      const res = await api.post(`/v1/namespaces/${ns}/datasets`, { dataset_id: id });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body;
    },
    /** A new version of the dataset; returns its name. */
    async datasetVersion(ns: string, id: string, extra: Record<string, unknown> = {}): Promise<string> {
      const res = await api.post(`/v1/namespaces/${ns}/datasets/${id}/versions`, {
        uri: `s3://lake/${id}/${seq}/`,
        digest: `sha256:${hex()}`,
        ...extra,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.name;
    },
    async run(ns: string, id: string, extra: Record<string, unknown> = {}): Promise<string> {
      const res = await api.post(`/v1/namespaces/${ns}/runs`, { run_id: id, kind: 'training', ...extra });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.name;
    },
    /** Registers a version (with lineage, when given); returns its name. */
    async version(ns: string, model: string, lineage?: Record<string, unknown>): Promise<string> {
      const res = await api.post(`/v1/namespaces/${ns}/models/${model}/versions`, lineage ? { lineage } : {});
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.name;
    },
    record(version: string, lineage: Record<string, unknown>, headers?: Record<string, string>) {
      return api.post(`/v1/${version}:recordLineage`, lineage, headers);
    },
    async transition(version: string, ...statuses: string[]) {
      for (const status of statuses) {
        const res = await api.post(`/v1/${version}:transition`, { status });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      }
    },
  };
}
