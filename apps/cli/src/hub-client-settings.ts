import { z } from 'zod';
import { readSettings, settingsObject, settingsProblems, type SettingsTable } from '@homelab/contracts';
import { UsageError } from './args';

/**
 * Where the commands that talk to a hub's API (`actions`, `mirror`) find it.
 * CONTROL_PLANE_URL is the name existing mirror deployments set for the same
 * URL; it is read when HOMELAB_HUB_URL is not (docs/configuration.md, "Aliases").
 */
export const HUB_CLIENT_SETTINGS = {
  hubUrl: {
    flag: 'hub',
    arg: '<url>',
    env: 'HOMELAB_HUB_URL',
    envAliases: ['CONTROL_PLANE_URL'],
    type: z.url({ protocol: /^https?$/ }).optional(),
    help: 'hub API (default http://127.0.0.1:18180 for actions; mirror needs it)',
  },
} as const satisfies SettingsTable;

export const DEFAULT_HUB_URL = 'http://127.0.0.1:18180';

/** The hub URL from `flag` (the command's own flag, e.g. mirror's --from) or the environment; undefined when none is set. */
export function hubUrlSetting(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const parsed = settingsObject(HUB_CLIENT_SETTINGS).safeParse(readSettings(HUB_CLIENT_SETTINGS, { hub: flag }, env));
  if (!parsed.success) throw new UsageError(settingsProblems(HUB_CLIENT_SETTINGS, parsed.error).join('; '));
  return parsed.data.hubUrl;
}
