import { HUB_OPTIONS, resolveHubConfig, startHub } from '@homelab/hub';
import { createLogger } from '@homelab/logging';
import { parse } from '../args';
import { HUB_HELP } from '../help';
import { untilSignal } from '../signals';
import { startupBanner } from '../startup/banner';
import { credentialsFileOf, describedNodes } from '../startup/facts';

export async function hubCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, HUB_OPTIONS);
  if (values.help) {
    console.log(HUB_HELP);
    return 0;
  }
  const log = createLogger('hub');
  const config = resolveHubConfig(values, process.env);
  const hub = await startHub(config, log);
  // People at a terminal get plain words; a service manager's journal has the `hub running` line.
  if (process.stderr.isTTY) {
    console.error(
      `\n${startupBanner({
        httpUrl: hub.httpUrl,
        mqttUrl: hub.mqttUrl,
        embeddedBroker: !config.mqttUrl,
        root: config.root,
        hostsDir: config.hostsDir,
        describedNodes: await describedNodes(config.hostsDir),
        credentialsFile: await credentialsFileOf(config.root),
      })}`,
    );
  }
  await untilSignal();
  log.info('stopping');
  await hub.stop();
  return 0;
}
