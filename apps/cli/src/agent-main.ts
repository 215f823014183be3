// Entry of the agent-only bundle (dist/homelab-agent.mjs, the agent image): `homelab agent`
// without the hub's code (web server, broker, observer), which the full CLI bundle loads at start
// and which would triple the agent's resident memory. Same options and exit codes as `homelab agent`.
import { holdLifeline } from './agent-process.mjs';
import { UsageError } from './args';
import { agentCommand } from './commands/agent';
import { printVersionIfAsked } from './version';

holdLifeline();
const argv = process.argv.slice(2);
const args = argv[0] === 'agent' ? argv.slice(1) : argv;
// The image's entrypoint already says `agent`: `docker run <agent image> --version` lands here.
const version = printVersionIfAsked(args);
(version !== null ? Promise.resolve(version) : agentCommand(args)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`homelab agent: ${err.message} (see --help)`);
      process.exit(2);
    }
    const e = err as Error;
    console.error(`homelab agent: ${e.message}`);
    if (process.env.LOG_LEVEL === 'debug') console.error(e.stack);
    process.exit(1);
  },
);
