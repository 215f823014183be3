import { hubEnvSettingsHelp, resolveHubConfig, startHub } from '@homelab/hub';
import { createLogger } from '@homelab/logging';
import { parse } from '../args';
import { HUB_HELP } from '../help';
import { untilSignal } from '../signals';

export const HUB_OPTIONS = {
  root: { type: 'string' },
  hosts: { type: 'string' },
  'mqtt-url': { type: 'string' },
  'mqtt-host': { type: 'string' },
  'mqtt-port': { type: 'string' },
  'http-host': { type: 'string' },
  'http-port': { type: 'string' },
  'allow-anonymous': { type: 'boolean' },
  'mqtt-password-file': { type: 'string' },
  'mqtt-tls-cert': { type: 'string' },
  'mqtt-tls-key': { type: 'string' },
  'mqtt-tls-port': { type: 'string' },
} as const;

export async function hubCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, HUB_OPTIONS);
  if (values.help) {
    console.log(`${HUB_HELP}\n${hubEnvSettingsHelp()}`);
    return 0;
  }
  const log = createLogger('hub');
  const config = resolveHubConfig(values, process.env);
  const hub = await startHub(config, log);
  await untilSignal();
  log.info('stopping');
  await hub.stop();
  return 0;
}
