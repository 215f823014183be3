import { readSettings, settingsObject, settingsProblems } from '@homelab/contracts';
import { DEFAULT_MOSQUITTO_BIND, HUB_SETTINGS, HubConfig, isBindAddress, readCredentials, writeMosquittoFiles } from '@homelab/hub';
import { parse, UsageError } from '../args';
import { BROKER_CONFIG_HELP } from '../help';
import { dataRoot } from './nodes';

/** `homelab broker-config --out <dir>`: Mosquitto password, ACL and conf files from the hub's credentials. */
export async function brokerConfigCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    root: { type: 'string' },
    out: { type: 'string' },
    port: { type: 'string' },
    bind: { type: 'string' },
    'ha-discovery-prefix': { type: 'string' },
    'ha-approve-buttons': { type: 'boolean' },
  } as const);
  if (values.help) {
    console.log(BROKER_CONFIG_HELP);
    return 0;
  }
  if (!values.out) throw new UsageError('--out <dir> is required');
  const root = dataRoot(values.root);
  const creds = await readCredentials(root);
  // The hub's own payload limit (its default; the hub has no setting for it yet).
  const maxPayloadBytes = HubConfig.shape.maxPayloadBytes.parse(undefined);
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) throw new UsageError('--port must be a TCP port');
  const bind = values.bind ?? DEFAULT_MOSQUITTO_BIND;
  if (!isBindAddress(bind)) throw new UsageError('--bind must be an IP address or host name (e.g. 0.0.0.0 for every interface)');
  // The hub's own Home Assistant settings (same flags and variables): the ACL must grant what the hub will do.
  const haTable = { haDiscoveryPrefix: HUB_SETTINGS.haDiscoveryPrefix, haApproveButtons: HUB_SETTINGS.haApproveButtons };
  const ha = settingsObject(haTable).safeParse(readSettings(haTable, values, process.env));
  if (!ha.success) throw new UsageError(settingsProblems(haTable, ha.error).join('; '));
  const homeAssistant = { discoveryPrefix: ha.data.haDiscoveryPrefix, approveButtons: ha.data.haApproveButtons };
  const files = await writeMosquittoFiles(values.out, creds, { maxPayloadBytes, bind, homeAssistant, ...(port ? { port } : {}) });
  const roles = Object.values(creds.users).map((u) => u.role);
  console.error(
    `Wrote ${files.passwordFile} (0600), ${files.aclFile} and ${files.confFile} for ${roles.length} identities ` +
      `(${roles.filter((r) => r === 'node').length} nodes, ${roles.filter((r) => r === 'hub').length} hub, ${roles.filter((r) => r === 'inspector').length} inspectors, ${roles.filter((r) => r === 'homeassistant').length} Home Assistant); ` +
      `Home Assistant discovery prefix ${homeAssistant.discoveryPrefix}, Approve presses ${homeAssistant.approveButtons ? 'allowed' : 'not allowed'}; ` +
      `the listener binds ${bind}${bind === DEFAULT_MOSQUITTO_BIND ? ' (loopback only: --bind <address> for agents on other hosts)' : ''}.\n` +
      `Mosquitto must be able to read the password file (chown it to the broker's user); reload with SIGHUP after changes.`,
  );
  if (!roles.includes('hub')) console.error(`Warning: no hub identity yet; add it with 'homelab nodes add homelab-hub --role hub'.`);
  return 0;
}
