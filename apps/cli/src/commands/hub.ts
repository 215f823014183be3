import { HUB_OPTIONS, resolveHubConfig, startHub } from '@homelab/hub';
import { createLogger } from '@homelab/logging';
import { parse } from '../args';
import { HUB_HELP } from '../help';
import { untilSignal } from '../signals';

export async function hubCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, HUB_OPTIONS);
  if (values.help) {
    console.log(HUB_HELP);
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
