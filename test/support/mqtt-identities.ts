/**
 * MQTT identities for tests: the hub's broker denies anonymous clients, so
 * every test client against the embedded broker gets a credential in the hub's
 * data root (what `homelab nodes add` writes). The secret is derived from the
 * name, so restarts of an agent need no bookkeeping.
 */
import { addCredentials, readCredentials, type MqttRole } from '@homelab/hub';

export const testSecret = (name: string) => `test-secret-${name}`;

let chain: Promise<unknown> = Promise.resolve();

/** Adds the identities missing from `root` (serialized: the file is read-modify-write). */
export function provisionMqtt(root: string, names: string[], role: MqttRole = 'node'): Promise<void> {
  const run = chain.then(async () => {
    const have = (await readCredentials(root)).users;
    const missing = [...new Set(names)].filter((n) => !have[n]);
    if (missing.length)
      await addCredentials(
        root,
        missing.map((name) => ({ name, role, secret: testSecret(name) })),
      );
  });
  chain = run.catch(() => undefined);
  return run;
}

/** Provisions `node` in the hub's data root and returns the agent environment that carries its secret. */
export async function agentMqttEnv(hubRoot: string | undefined, node: string): Promise<NodeJS.ProcessEnv> {
  if (!hubRoot) return {};
  await provisionMqtt(hubRoot, [node]);
  return { HOMELAB_MQTT_PASSWORD: testSecret(node) };
}
