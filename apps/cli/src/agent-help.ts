import { settingsHelp } from '@homelab/contracts';
import { AGENT_SETTINGS } from '@homelab/node-agent';

/**
 * `homelab agent --help`, apart from help.ts: that file names the hub's
 * settings, and the agent-only bundle (agent-main.ts) must not load the hub.
 */
export const AGENT_HELP = `Usage: homelab agent --node <name> [options]

${settingsHelp(AGENT_SETTINGS)}
See docs/configuration.md.`;
