// One way to start the agent, from a checkout as from the images: the agent-only bundle
// (deploy/agent-bundle.mjs) under AGENT_NODE_FLAGS. In a checkout the bundle is
// dist/homelab-agent.mjs, rebuilt first when a source changed; inside the CLI bundle
// (dist/homelab.mjs) it is the homelab-agent.mjs beside it. docs/benchmarks.md "Agent: detection
// latency and footprint" has what the bundle and the flags save. Plain JavaScript: the checkout's
// `homelab agent` runs it before (and instead of) registering a TypeScript loader.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AGENT_NODE_FLAGS, agentBundleIsFresh } from '../../../deploy/agent-bundle.mjs';
import { followAgentProcess, LIFELINE_ENV, spawnAgentProcess } from './agent-process.mjs';

/** True when this file runs as itself, from a checkout (not bundled into dist/homelab.mjs). */
const inCheckout = import.meta.url.endsWith('/apps/cli/src/agent-launch.mjs');
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The agent-only bundle this installation runs. */
export const AGENT_BUNDLE = inCheckout ? `${repoRoot}dist/homelab-agent.mjs` : fileURLToPath(new URL('homelab-agent.mjs', import.meta.url));

/** Builds the checkout's bundle when it is missing or older than a source (in a process of its own: the launcher never holds esbuild). */
export function ensureAgentBundle() {
  if (!inCheckout) {
    if (!fs.existsSync(AGENT_BUNDLE)) throw new Error(`the agent bundle ${AGENT_BUNDLE} is missing (npm run build writes it)`);
    return AGENT_BUNDLE;
  }
  if (agentBundleIsFresh(AGENT_BUNDLE)) return AGENT_BUNDLE;
  const built = spawnSync(process.execPath, [`${repoRoot}deploy/build-agent-bundle.mjs`, AGENT_BUNDLE], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (built.status !== 0) throw new Error(`could not build the agent bundle (node deploy/build-agent-bundle.mjs exited with ${built.status ?? built.signal})`);
  return AGENT_BUNDLE;
}

/** Node's arguments for `homelab agent <args>`: the flags, the bundle (built if stale), the command. */
export function agentNodeArgs(args) {
  return [...AGENT_NODE_FLAGS, ensureAgentBundle(), 'agent', ...args];
}

/**
 * `homelab agent <args>` from a checkout: becomes the agent (process.execve, Node >= 22.15: same
 * pid, nothing in front), or else starts it and stays in front of it, passing signals on and
 * leaving with its exit code.
 */
export function execAgent(args) {
  const nodeArgs = agentNodeArgs(args);
  if (typeof process.execve === 'function') {
    const env = { ...process.env };
    delete env[LIFELINE_ENV];
    process.execve(process.execPath, [process.execPath, ...nodeArgs], env);
  }
  followAgentProcess(spawnAgentProcess(nodeArgs));
}
