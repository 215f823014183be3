import fs from 'node:fs';
import { parseJsonText } from '@homelab/durable-fs';
import { InitialCredentials, initialCredentialsPath } from '@homelab/hub';

/**
 * The API token the CLI sends to the hub (`Authorization: Bearer`), first found of:
 * `--token`, `HOMELAB_TOKEN`, the first line of `--token-file` / `HOMELAB_TOKEN_FILE`,
 * and, on the hub's own machine, the token generated at its first start
 * (`<HOMELAB_ROOT or ./.homelab>/auth/initial-credentials.json`, `kind` picks which).
 */
export function resolveHubToken(
  flags: { token?: string; 'token-file'?: string },
  env: NodeJS.ProcessEnv,
  kind: 'operatorToken' | 'viewerToken' = 'operatorToken',
): string | undefined {
  if (flags.token) return flags.token;
  if (env.HOMELAB_TOKEN) return env.HOMELAB_TOKEN;
  const file = flags['token-file'] ?? env.HOMELAB_TOKEN_FILE;
  if (file) {
    const first = fs.readFileSync(file, 'utf8').split(/\r?\n/)[0]?.trim();
    if (!first) throw new Error(`${file}: empty token file`);
    return first;
  }
  for (const root of [env.HOMELAB_ROOT, '.homelab'].filter(Boolean) as string[]) {
    let text: string;
    try {
      text = fs.readFileSync(initialCredentialsPath(root), 'utf8');
    } catch {
      continue; // not this machine's hub, or not readable by this user
    }
    const creds = parseJsonText(text, InitialCredentials);
    if (creds.kind === 'ok') return creds.value[kind];
  }
  return undefined;
}

export const authHeader = (token: string | undefined): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});
