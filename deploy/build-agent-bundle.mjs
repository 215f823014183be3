// `node deploy/build-agent-bundle.mjs [outfile]`: builds the agent-only bundle once; what the
// checkout's `homelab agent` runs when its bundle is stale (apps/cli/src/agent-launch.mjs).
import { buildAgentBundle } from './agent-bundle.mjs';

await buildAgentBundle(process.argv[2]);
