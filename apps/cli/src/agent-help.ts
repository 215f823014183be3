import { settingsHelp } from '@homelab/contracts';
import { AGENT_SETTINGS } from '@homelab/node-agent';

// Apart from help.ts, which imports the hub's settings and with them the hub: the agent-only
// bundle (agent-main.ts) must not load the hub's code.
export const AGENT_HELP = `Usage: homelab agent --node <name> [options]

${settingsHelp(AGENT_SETTINGS)}
See docs/configuration.md.`;
