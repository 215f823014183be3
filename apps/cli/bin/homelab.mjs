#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx); container images ship a bundled build instead.
// `homelab agent` is the exception: it runs what the agent image runs, the agent-only bundle
// with the agent's Node flags (apps/cli/src/agent-launch.mjs), without loading tsx at all.
if (process.argv[2] === 'agent') {
  const { execAgent } = await import('../src/agent-launch.mjs');
  try {
    execAgent(process.argv.slice(3));
  } catch (err) {
    console.error(`homelab agent: ${err.message}`);
    process.exit(1);
  }
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
