import { authHeader } from './hub-token';

/**
 * One request of the CLI to the hub's JSON API (docs/ui-api.md), marked as
 * coming from the CLI (the audit's `via`). A hub that cannot be reached is an
 * error saying so; any answer, error or not, comes back with its status.
 */
export async function callHub(
  hub: string,
  token: string | undefined,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  let res: Response;
  try {
    res = await fetch(new URL(path, hub), {
      method,
      headers: { 'content-type': 'application/json', 'x-homelab-client': 'cli', ...authHeader(token) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new Error(`cannot reach the hub at ${hub} (${(err as Error).message}); is it running? set --hub or HOMELAB_HUB_URL (or CONTROL_PLANE_URL)`);
  }
  const json: any = await res.json().catch(() => ({}));
  if (res.status === 401) json.message = `${json.message ?? 'unauthorized'} — give an API token with --token or HOMELAB_TOKEN (docs/ui-api.md)`;
  return { status: res.status, json };
}
