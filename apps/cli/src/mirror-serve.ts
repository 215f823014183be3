import fs from 'node:fs';
import { readSettings, settingsObject, settingsOptions, settingsProblems, settingSource } from '@homelab/contracts';
import { buildMirrorView, isLoopbackHost, MIRROR_VIEW_SETTINGS } from '@homelab/hub/mirror-view';
import type { Logger } from '@homelab/logging';
import { UsageError } from './args';

export const MIRROR_VIEW_OPTIONS = settingsOptions(MIRROR_VIEW_SETTINGS);

export interface MirrorViewConfig {
  serve: boolean;
  port: number;
  host: string;
  token?: string;
}

/**
 * The `--serve` settings, checked before anything starts: an address other
 * than loopback without a view token is refused, because the page shows the
 * whole fleet to whoever reaches it (docs/ui-api.md, "Mirror's page"; docs/security.md).
 */
export function mirrorViewConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): MirrorViewConfig {
  const parsed = settingsObject(MIRROR_VIEW_SETTINGS).safeParse(readSettings(MIRROR_VIEW_SETTINGS, flags, env));
  if (!parsed.success) throw new UsageError(settingsProblems(MIRROR_VIEW_SETTINGS, parsed.error).join('; '));
  const { serve, port, host, viewTokenFile } = parsed.data;
  let token: string | undefined;
  if (viewTokenFile) {
    token = fs.readFileSync(viewTokenFile, 'utf8').split(/\r?\n/)[0]?.trim();
    if (!token) throw new UsageError(`${settingSource(MIRROR_VIEW_SETTINGS, 'viewTokenFile')}: ${viewTokenFile} is empty`);
  }
  if (serve && !token && !isLoopbackHost(host))
    throw new UsageError(
      `${settingSource(MIRROR_VIEW_SETTINGS, 'host')} ${host} would show the fleet to the network without a password: ` +
        `give ${settingSource(MIRROR_VIEW_SETTINGS, 'viewTokenFile')} (a file with a token readers type in), or serve on 127.0.0.1`,
    );
  return { serve, port, host, ...(token ? { token } : {}) };
}

/** Starts the mirror's page on `cfg.host:cfg.port` over `dir`; resolves with a stop function once it listens. */
export async function serveMirror(dir: string, cfg: MirrorViewConfig, log: Logger): Promise<{ url: string; close: () => Promise<void> }> {
  const app = buildMirrorView({ dir, log, ...(cfg.token ? { token: cfg.token } : {}) });
  try {
    await app.listen({ port: cfg.port, host: cfg.host });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`cannot serve on ${cfg.host}:${cfg.port} (${e.code ?? e.message}); change ${settingSource(MIRROR_VIEW_SETTINGS, 'port')}`);
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.port;
  const host = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
  return { url: `http://${host}:${port}`, close: () => app.close() };
}
