import { createLogger } from '@homelab/logging';
import { parseAgentConfig, runAgent } from '@homelab/node-agent';
import { parse } from '../args';
import { AGENT_HELP } from '../help';
import { untilSignal } from '../signals';

export const AGENT_OPTIONS = {
  node: { type: 'string' },
  'mqtt-url': { type: 'string' },
  'docker-socket': { type: 'string' },
  'state-dir': { type: 'string' },
  'mqtt-password-file': { type: 'string' },
  'mqtt-ca': { type: 'string' },
  'stack-roots': { type: 'string' },
} as const;

export async function agentCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, AGENT_OPTIONS);
  if (values.help) {
    console.log(AGENT_HELP);
    return 0;
  }
  const config = parseAgentConfig(process.env, values);
  const log = createLogger('agent');
  const agent = await runAgent(config, log);
  await untilSignal();
  log.info('stopping');
  await agent.stop();
  return 0;
}
