import { settingsHelp } from '@homelab/contracts';
import { LOG_SETTINGS } from '@homelab/logging';
import { AGENT_SETTINGS } from '@homelab/node-agent';

/** The log settings every long-running command reads. */
export const LOGS_HELP = `Logs (every command):\n${settingsHelp(LOG_SETTINGS).replace('Environment only:\n', '')}`;

/**
 * `homelab agent --help`. Apart from help.ts because the agent-only bundle (deploy/agent-bundle.mjs)
 * imports it: help.ts needs the hub's settings, and with them the whole hub, web UI included.
 */
export const AGENT_HELP = `Usage: homelab agent --node <name> [options]

${settingsHelp(AGENT_SETTINGS)}
${LOGS_HELP}
See docs/configuration.md.`;
