import path from 'node:path';
import fs from 'node:fs/promises';
import { addCredential, CREDENTIALS_FILE, HUB_CLIENT_ID, MqttRole, readCredentials, removeCredential } from '@homelab/hub';
import { parse, UsageError } from '../args';
import { NODES_HELP } from '../help';

export const dataRoot = (flag: string | undefined) => path.resolve(flag ?? process.env.HOMELAB_ROOT ?? '/opt/homelab');

/**
 * `homelab nodes add|list|remove`: the MQTT identities the hub's broker admits
 * (state/mqtt-credentials.json in the data root, hashed). `add` prints the new
 * secret once, alone on stdout (so `SECRET=$(homelab nodes add piha)` works);
 * the explanation goes to stderr.
 */
export async function nodesCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    root: { type: 'string' },
    role: { type: 'string' },
    rotate: { type: 'boolean' },
    'secret-file': { type: 'string' },
  } as const);
  const [sub, name, ...extra] = positionals;
  if (values.help || !sub) {
    console.log(NODES_HELP);
    return values.help ? 0 : 2;
  }
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const root = dataRoot(values.root);
  switch (sub) {
    case 'add': {
      if (!name) throw new UsageError('nodes add needs a name');
      const role = MqttRole.safeParse(values.role ?? 'node');
      if (!role.success) throw new UsageError(`--role must be node, hub, inspector or homeassistant`);
      const secret = await addCredential(root, name, { role: role.data, rotate: values.rotate ?? false });
      const file = path.join(root, CREDENTIALS_FILE);
      if (values['secret-file']) {
        await fs.writeFile(values['secret-file'], `${secret}\n`, { mode: 0o600 });
        await fs.chmod(values['secret-file'], 0o600);
      } else console.log(secret);
      const where = values['secret-file'] ? `written to ${values['secret-file']} (mode 0600)` : 'printed above, shown only this once';
      const how =
        role.data === 'node'
          ? `Run the agent with HOMELAB_NODE=${name} and HOMELAB_MQTT_PASSWORD=<secret> (or HOMELAB_MQTT_PASSWORD_FILE=<file>).`
          : role.data === 'hub'
            ? `Run the hub against an external broker with HOMELAB_MQTT_USERNAME=${HUB_CLIENT_ID} and HOMELAB_MQTT_PASSWORD(_FILE); then rerun 'homelab broker-config'.`
            : role.data === 'homeassistant'
              ? `Give Home Assistant's MQTT integration the username ${name} and this secret (docs/home-assistant.md).`
              : `Read with: mosquitto_sub -u ${name} -P <secret> -v -t 'homelab/#'`;
      console.error(
        `${values.rotate ? 'Rotated' : 'Added'} ${role.data} '${name}' in ${file}. Its secret is ${where}; the hub keeps only a hash.\n${how}\n` +
          `The embedded broker picks the change up within seconds (a rotated secret's connections are cut); for Mosquitto rerun 'homelab broker-config' and reload it.`,
      );
      return 0;
    }
    case 'list': {
      if (name) throw new UsageError('nodes list takes no name');
      const creds = await readCredentials(root);
      const rows = Object.entries(creds.users).sort(([a], [b]) => a.localeCompare(b));
      if (!rows.length) console.error(`no MQTT identities in ${path.join(root, CREDENTIALS_FILE)}; add one with 'homelab nodes add <node>'`);
      for (const [n, c] of rows) console.log(`${n.padEnd(24)} ${c.role.padEnd(10)} ${c.createdAt}`);
      return 0;
    }
    case 'remove': {
      if (!name) throw new UsageError('nodes remove needs a name');
      if (!(await removeCredential(root, name))) {
        console.error(`homelab: no MQTT identity '${name}' in ${path.join(root, CREDENTIALS_FILE)}`);
        return 1;
      }
      console.error(
        `Removed '${name}': the embedded broker disconnects it within seconds and refuses its secret; for Mosquitto rerun 'homelab broker-config' and reload it.`,
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown nodes subcommand '${sub}' (add, list, remove)`);
  }
}
