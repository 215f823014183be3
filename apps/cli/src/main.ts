import { actionsCommand } from './commands/actions';
import { adoptCommand } from './commands/adopt';
import { brokerConfigCommand } from './commands/broker-config';
import { authCommand } from './commands/auth';
import { mcpCommand } from './commands/mcp';
import { mirrorCommand } from './commands/mirror';
import { hubCommand } from './commands/hub';
import { nodesCommand } from './commands/nodes';
import { notifyCommand } from './commands/notify';
import { replayCommand } from './commands/replay';
import { upCommand } from './commands/up';
import { validateCommand } from './commands/validate';
import { worldCommand } from './commands/world';
import { execAgent } from './agent-launch.mjs';
import { UsageError } from './args';
import { MAIN_HELP } from './help';
import { printVersionIfAsked } from './version';

/**
 * `homelab agent` runs what the agent image runs, from wherever it is started: the agent-only
 * bundle with the agent's Node flags (apps/cli/src/agent-launch.mjs), which exits this process.
 */
const agentInItsBundle = (argv: string[]) => new Promise<number>(() => execAgent(argv));

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  up: upCommand,
  hub: hubCommand,
  agent: agentInItsBundle,
  actions: actionsCommand,
  adopt: adoptCommand,
  validate: validateCommand,
  replay: replayCommand,
  nodes: nodesCommand,
  'broker-config': brokerConfigCommand,
  mirror: mirrorCommand,
  mcp: mcpCommand,
  auth: authCommand,
  notify: notifyCommand,
  world: worldCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(MAIN_HELP);
    return name ? 0 : 2;
  }
  const version = printVersionIfAsked(argv);
  if (version !== null) return version;
  const command = COMMANDS[name];
  if (!command) {
    console.error(`homelab: unknown command '${name}'\n\n${MAIN_HELP}`);
    return 2;
  }
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`homelab: ${err.message} (see --help)`);
      process.exit(2);
    }
    // Known errors carry a message written for operators; print it without a stack.
    const e = err as Error & { code?: string };
    console.error(`homelab: ${e.message}`);
    if (process.env.LOG_LEVEL === 'debug') console.error(e.stack);
    process.exit(1);
  },
);
