import fs from 'node:fs/promises';
import { sleep } from '@homelab/testkit';

/**
 * The process started as `homelab agent` (pid) that runs the agent bundle: pid itself when the
 * launcher replaced itself (process.execve), else its child (apps/cli/src/agent-launch.mjs).
 */
export async function agentBundleProcess(pid: number, timeoutMs = 60_000): Promise<{ pid: number; argv: string[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const children = (await fs.readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).split(' ').filter(Boolean).map(Number);
    for (const p of [pid, ...children]) {
      const argv = await cmdlineOf(p);
      if (argv?.some((a) => a.endsWith('/homelab-agent.mjs'))) return { pid: p, argv };
    }
    if (Date.now() > deadline) throw new Error(`no agent bundle process under pid ${pid}`);
    await sleep(50);
  }
}

/** argv of a process, or null once it is gone (a zombie has an empty cmdline). */
export async function cmdlineOf(pid: number): Promise<string[] | null> {
  const raw = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return raw ? raw.split('\0').slice(0, -1) : null;
}
