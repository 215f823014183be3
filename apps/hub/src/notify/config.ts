import fs from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import type { z } from 'zod';
import { NOTIFY_CONFIG_FILE, NotifyFile, type NotifierName } from '@homelab/contracts';
import { HubError } from '../errors';

/** The settings with the secrets read from the environment. */
export interface NotifyConfig {
  file: string;
  uiUrl?: string;
  graceMs: number;
  quietHours: NotifyFile['quietHours'];
  nodeAlerts: boolean;
  telegram?: {
    botToken: string;
    chatIds: number[];
    allowedUserIds: number[];
    apiRoot?: string;
    webhook?: { url: string; secretToken: string };
    perMinute: number;
  };
  ntfy?: { url: string; topic: string; token?: string; perMinute: number };
  webhook?: { url: string; secret?: string; perMinute: number };
}

export const notifiersOf = (c: NotifyConfig): NotifierName[] => (['telegram', 'ntfy', 'webhook'] as const).filter((n) => c[n] !== undefined);

/** `field.path: reason` for each problem, one per line. */
function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(file)'}: ${i.message}`).join('; ');
}

/**
 * Reads `<root>/notifications.yaml` (docs/notifications.md). No file: null
 * (nothing is sent). A file that does not parse, a wrong field or a secret
 * variable that is not set is a `config_invalid` naming the file and field.
 */
export async function loadNotifyConfig(root: string, env: NodeJS.ProcessEnv): Promise<NotifyConfig | null> {
  const file = path.join(root, NOTIFY_CONFIG_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new HubError('config_invalid', `${file}: cannot read: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = yaml.load(text, { schema: yaml.JSON_SCHEMA }) ?? {};
  } catch (err) {
    throw new HubError('config_invalid', `${file}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  return resolveNotifyConfig(raw, env, file);
}

/** Telegram accepts 1–256 characters A–Z, a–z, 0–9, _ and - as a webhook's secret token. */
function webhookSecret(v: string, file: string): string {
  if (!/^[A-Za-z0-9_-]{16,256}$/.test(v))
    throw new HubError('config_invalid', `${file}: telegram.webhook.secretTokenEnv: the secret token must be 16 to 256 characters of A-Z, a-z, 0-9, _ and -`);
  return v;
}

/** The file's content checked and its secrets resolved (pure over `env`). */
export function resolveNotifyConfig(raw: unknown, env: NodeJS.ProcessEnv, file: string): NotifyConfig {
  const parsed = NotifyFile.safeParse(raw);
  if (!parsed.success) throw new HubError('config_invalid', `${file}: ${describe(parsed.error)}`);
  const f = parsed.data;
  const secret = (field: string, name: string | undefined): string | undefined => {
    if (!name) return undefined;
    const v = env[name];
    if (!v) throw new HubError('config_invalid', `${file}: ${field}: environment variable ${name} is not set`);
    return v;
  };
  const perMinute = (own: number | undefined) => own ?? f.rateLimitPerMinute;
  const config: NotifyConfig = {
    file,
    graceMs: f.graceSeconds * 1000,
    quietHours: f.quietHours,
    nodeAlerts: f.nodeAlerts,
    ...(f.uiUrl ? { uiUrl: f.uiUrl } : {}),
  };
  if (f.telegram) {
    const t = f.telegram;
    config.telegram = {
      botToken: secret('telegram.botTokenEnv', t.botTokenEnv)!,
      chatIds: t.chatIds,
      allowedUserIds: t.allowedUserIds,
      ...(t.apiRoot ? { apiRoot: t.apiRoot.replace(/\/$/, '') } : {}),
      ...(t.webhook
        ? { webhook: { url: t.webhook.url, secretToken: webhookSecret(secret('telegram.webhook.secretTokenEnv', t.webhook.secretTokenEnv)!, file) } }
        : {}),
      perMinute: perMinute(t.rateLimitPerMinute),
    };
  }
  if (f.ntfy) {
    const token = secret('ntfy.tokenEnv', f.ntfy.tokenEnv);
    config.ntfy = { url: f.ntfy.url.replace(/\/$/, ''), topic: f.ntfy.topic, ...(token ? { token } : {}), perMinute: perMinute(f.ntfy.rateLimitPerMinute) };
  }
  if (f.webhook) {
    const s = secret('webhook.secretEnv', f.webhook.secretEnv);
    config.webhook = { url: f.webhook.url, ...(s ? { secret: s } : {}), perMinute: perMinute(f.webhook.rateLimitPerMinute) };
  }
  return config;
}
