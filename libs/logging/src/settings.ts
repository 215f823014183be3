import { z } from 'zod';
import { readSettings, settingsObject, settingsProblems, type SettingsTable } from '@homelab/contracts';

/** The settings every command's logs read, declared once (docs/configuration.md). */
export const LOG_SETTINGS = {
  logLevel: {
    env: 'LOG_LEVEL',
    type: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    help: 'fatal, error, warn, info, debug, trace or silent',
  },
  logFormat: {
    env: 'LOG_FORMAT',
    type: z.enum(['auto', 'pretty', 'json']).default('auto'),
    help: 'pretty: one coloured line per message; json: one JSON object per line; auto: pretty on a terminal, JSON otherwise',
  },
} satisfies SettingsTable;

const LogSettings = settingsObject(LOG_SETTINGS);
export type LogSettings = z.infer<typeof LogSettings>;

/** LOG_LEVEL and LOG_FORMAT from the environment; a wrong value throws, naming the variable and the reason. */
export function logSettings(env: NodeJS.ProcessEnv): LogSettings {
  const parsed = LogSettings.safeParse(readSettings(LOG_SETTINGS, {}, env));
  if (!parsed.success) throw new Error(settingsProblems(LOG_SETTINGS, parsed.error).join('; '));
  return parsed.data;
}
