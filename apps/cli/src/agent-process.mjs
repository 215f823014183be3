// The agent as a process of its own, started by a parent that stays in front of it: `homelab agent`
// from a checkout on a Node without process.execve (apps/cli/bin/agent-launch.mjs), and `homelab up`.
// Plain JavaScript: the checkout's launcher uses it before any TypeScript loader is registered.
import { spawn } from 'node:child_process';
import net from 'node:net';

/** Names the file descriptor of the lifeline, a pipe from the parent that closes when the parent dies. */
export const LIFELINE_ENV = 'HOMELAB_AGENT_LIFELINE_FD';

/** The signals a parent passes on: the agent stops on SIGINT and SIGTERM (apps/cli/src/signals.ts). */
export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Starts `node <nodeArgs>` as the agent. In a session of its own, so a terminal's Ctrl-C reaches
 * the agent once, through the parent (twice would skip its graceful stop); with a lifeline on fd 3,
 * so that when the parent dies, even by SIGKILL, the agent dies with it (holdLifeline).
 */
export function spawnAgentProcess(nodeArgs, env = process.env) {
  return spawn(process.execPath, nodeArgs, {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    detached: true,
    env: { ...env, [LIFELINE_ENV]: '3' },
  });
}

/**
 * In the agent: when started by spawnAgentProcess, die (by SIGKILL, as its parent may have) the
 * moment the parent's end of the lifeline closes. A parent and its agent are one unit to whoever
 * started the parent: a supervisor's kill -9 of the parent must not leave an agent running.
 */
export function holdLifeline() {
  const fd = process.env[LIFELINE_ENV];
  if (!fd) return;
  delete process.env[LIFELINE_ENV];
  const line = new net.Socket({ fd: Number(fd), readable: true, writable: false });
  line.on('error', () => undefined);
  line.on('close', () => process.kill(process.pid, 'SIGKILL'));
  line.resume();
  line.unref();
}

/** In the parent: pass signals on to the agent, and leave as it left (its exit code, or its signal). */
export function followAgentProcess(child) {
  const forward = (sig) => child.kill(sig);
  for (const sig of FORWARDED_SIGNALS) process.on(sig, forward);
  child.on('exit', (code, signal) => {
    for (const sig of FORWARDED_SIGNALS) process.off(sig, forward);
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
