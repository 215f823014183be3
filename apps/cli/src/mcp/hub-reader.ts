import type { z } from 'zod';
import { authHeader } from '../hub-token';

/** What one request of an MCP tool to the hub's JSON API (docs/ui-api.md) came back with. */
export type HubAnswer<T> =
  | { ok: true; value: T }
  /** The hub refused (its own `{error, message}`), could not be reached, or answered something this version does not read. */
  | { ok: false; status: number; message: string };

export interface HubReader {
  get<S extends z.ZodType>(path: string, schema: S): Promise<HubAnswer<z.infer<S>>>;
  getText(path: string): Promise<HubAnswer<string>>;
  post<S extends z.ZodType>(path: string, body: unknown, schema: S): Promise<HubAnswer<z.infer<S>>>;
}

/**
 * The MCP server's only way to the hub: its HTTP API with the caller's token,
 * so the hub's guard decides every request (docs/mcp.md, "Security model").
 * Answers are read through the same contracts the hub declares them with.
 */
export function hubReader(hub: string, token: string | undefined): HubReader {
  const request = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<HubAnswer<string>> => {
    let res: Response;
    try {
      res = await fetch(new URL(path, hub), {
        method,
        headers: { 'content-type': 'application/json', ...authHeader(token) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      return { ok: false, status: 0, message: `cannot reach the hub at ${hub} (${(err as Error).message})` };
    }
    const text = await res.text();
    if (res.ok) return { ok: true, value: text };
    let message = `hub answered ${res.status}`;
    try {
      const parsed = JSON.parse(text) as { error?: string; message?: string };
      if (parsed.message) message = `hub answered ${res.status} ${parsed.error ?? ''}: ${parsed.message}`;
    } catch {
      // not the hub's JSON error: the status says enough
    }
    if (res.status === 401) message += ' — the token is missing, wrong or revoked: give homelab mcp an API token of the hub (docs/mcp.md, "Setup")';
    return { ok: false, status: res.status, message };
  };
  const json = async <S extends z.ZodType>(answer: HubAnswer<string>, path: string, schema: S): Promise<HubAnswer<z.infer<S>>> => {
    if (!answer.ok) return answer;
    let data: unknown;
    try {
      data = JSON.parse(answer.value);
    } catch {
      return { ok: false, status: 200, message: `${path}: the hub's answer is not JSON` };
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success)
      return { ok: false, status: 200, message: `${path}: the hub's answer does not match this version's contract (${parsed.error.message})` };
    return { ok: true, value: parsed.data };
  };
  return {
    get: async (path, schema) => json(await request('GET', path), path, schema),
    getText: (path) => request('GET', path),
    post: async (path, body, schema) => json(await request('POST', path, body), path, schema),
  };
}
