import os from 'node:os';
import path from 'node:path';
import { NAME_PATTERN } from '@homelab/contracts';
import { addCredential, HUB_OPTIONS, resolveHubConfig, startHub } from '@homelab/hub';
import { createLogger } from '@homelab/logging';
import { AGENT_OPTIONS, parseAgentConfig } from '@homelab/node-agent';
import { agentNodeArgs } from '../agent-launch.mjs';
import { spawnAgentProcess } from '../agent-process.mjs';
import { parse } from '../args';
import { UP_HELP } from '../help';
import { untilSignal } from '../signals';
import { startupBanner } from '../startup/banner';
import { credentialsFileOf, describedNodes, dockerAnswers } from '../startup/facts';

/** A node name from the hostname, made to fit the one name pattern. */
export function nodeNameFromHostname(hostname: string): string {
  const cleaned = hostname
    .toLowerCase()
    .split('.')[0]!
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, 63);
  return NAME_PATTERN.test(cleaned) ? cleaned : 'local';
}

/** A hub's and an agent's options, as declared in their settings tables. */
const UP_OPTIONS = {
  root: HUB_OPTIONS.root,
  hosts: HUB_OPTIONS.hosts,
  'http-port': HUB_OPTIONS['http-port'],
  'mqtt-port': HUB_OPTIONS['mqtt-port'],
  node: AGENT_OPTIONS.node,
  'docker-socket': AGENT_OPTIONS['docker-socket'],
};

export async function upCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, UP_OPTIONS);
  if (values.help) {
    console.log(UP_HELP);
    return 0;
  }
  const root = path.resolve(values.root ?? process.env.HOMELAB_ROOT ?? '.homelab');
  const config = resolveHubConfig({ ...values, root }, process.env);
  const node = values.node ?? process.env.HOMELAB_NODE ?? nodeNameFromHostname(os.hostname());
  // The broker denies anonymous clients: the local agent gets a fresh secret at every start,
  // handed over in memory (nothing in clear on disk; only its hash in state/mqtt-credentials.json).
  const secret = await addCredential(root, node, { role: 'node', rotate: true });
  const hub = await startHub(config, createLogger('hub'));
  const agentEnv = { ...process.env, HOMELAB_ROOT: root, HOMELAB_MQTT_USERNAME: node, HOMELAB_MQTT_PASSWORD: secret };
  const agentArgs = { node, 'mqtt-url': hub.mqttUrl, ...(values['docker-socket'] ? { 'docker-socket': values['docker-socket'] } : {}) };
  const agentConfig = parseAgentConfig(agentEnv, agentArgs);
  // The agent runs as it does everywhere else: the agent-only bundle in a process of its own,
  // with the agent's Node flags (apps/cli/src/agent-launch.mjs); it dies with this process.
  const agent = spawnAgentProcess(agentNodeArgs(Object.entries(agentArgs).flatMap(([k, v]) => [`--${k}`, v])), agentEnv);
  const agentExited = new Promise<string>((resolve) => agent.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`)));
  console.error(
    `\n${startupBanner({
      httpUrl: hub.httpUrl,
      mqttUrl: hub.mqttUrl,
      embeddedBroker: true,
      root,
      hostsDir: config.hostsDir,
      describedNodes: await describedNodes(config.hostsDir),
      credentialsFile: await credentialsFileOf(root),
      agent: { node, dockerSocket: agentConfig.dockerSocket, dockerReachable: await dockerAnswers(agentConfig.dockerSocket) },
    })}`,
  );
  const ended = await Promise.race([untilSignal().then(() => null), agentExited]);
  if (ended === null) {
    agent.kill('SIGTERM');
    await agentExited;
  } else console.error(`homelab up: the agent stopped (${ended}); stopping the hub`);
  await hub.stop();
  return ended === null ? 0 : 1;
}
