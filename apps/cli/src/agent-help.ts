import { settingsHelp } from '@homelab/contracts';
import { AGENT_SETTINGS } from '@homelab/node-agent';

/**
 * `homelab agent --help`. Apart from help.ts because the agent-only bundle (deploy/agent-bundle.mjs)
 * imports it: help.ts needs the hub's settings, and with them the whole hub, web UI included.
 */
export const AGENT_HELP = `Usage: homelab agent --node <name> [options]

${settingsHelp(AGENT_SETTINGS)}
See docs/configuration.md.`;
