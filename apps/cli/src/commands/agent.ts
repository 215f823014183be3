import { createLogger } from '@homelab/logging';
import { AGENT_OPTIONS, parseAgentConfig, runAgent } from '@homelab/node-agent';
import { parse } from '../args';
import { AGENT_HELP } from '../agent-help';
import { untilSignal } from '../signals';

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
