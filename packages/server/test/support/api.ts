import type { FastifyInstance, InjectOptions } from 'fastify';
import { expect } from 'vitest';
import { TEST_TOKEN } from './databases.js';

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Record<string, unknown>;
}

/**
 * A small REST client over inject(): JSON in, JSON out. It authenticates as the test admin
 * unless given another token (`null`: no Authorization header at all).
 */
export function client(app: FastifyInstance, token: string | null = TEST_TOKEN) {
  const auth: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
  const call = async <T = any>(
    method: NonNullable<InjectOptions['method']>,
    url: string,
    body?: unknown,
    given: Record<string, string> = {},
  ): Promise<Answer<T>> => {
    const headers = { ...auth, ...given };
    const res = await app.inject({
      method,
      url,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    let parsed: unknown = res.body;
    if (res.body && String(res.headers['content-type'] ?? '').includes('application/json'))
      parsed = JSON.parse(res.body);
    return { status: res.statusCode, body: parsed as T, headers: res.headers };
  };
  return {
    call,
    get: <T = any>(url: string, headers?: Record<string, string>) => call<T>('GET', url, undefined, headers),
    post: <T = any>(url: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>('POST', url, body ?? {}, headers),
    put: <T = any>(url: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>('PUT', url, body ?? {}, headers),
    patch: <T = any>(url: string, body?: unknown, headers?: Record<string, string>) =>
      call<T>('PATCH', url, body ?? {}, headers),
    delete: <T = any>(url: string, headers?: Record<string, string>) =>
      call<T>('DELETE', url, undefined, headers),
  };
}

export type Client = ReturnType<typeof client>;

/** Asserts the shared error envelope with the given code (and reason, when given). */
export function expectError(answer: Answer, status: number, code: string, reason?: string) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.body.error.code).toBe(code);
  expect(typeof answer.body.error.message).toBe('string');
  expect(typeof answer.body.error.request_id).toBe('string');
  if (reason) expect(answer.body.error.details.reason).toBe(reason);
}

/** Builders: the smallest valid resources, with overrides. */
export async function newNamespace(api: Client, id = 'team', extra: Record<string, unknown> = {}) {
  const res = await api.post('/v1/namespaces', { namespace_id: id, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export async function newModel(api: Client, ns: string, id: string, extra: Record<string, unknown> = {}) {
  const res = await api.post(`/v1/namespaces/${ns}/models`, { model_id: id, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export async function newVersion(
  api: Client,
  ns: string,
  model: string,
  extra: Record<string, unknown> = {},
) {
  const res = await api.post(`/v1/namespaces/${ns}/models/${model}/versions`, extra);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}
