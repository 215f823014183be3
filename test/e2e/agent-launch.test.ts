import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, makeTempDir, sleep, waitFor, type LoggedProcess, type TempDir } from '@homelab/testkit';
import { AGENT_NODE_FLAGS, inputsFileOf } from '../../deploy/agent-bundle.mjs';
import { agentBundleProcess, cmdlineOf } from '../support/agent-process';
import { agentMqttEnv } from '../support/mqtt-identities';
import { REPO_ROOT, homelab, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

const BUNDLE = path.join(REPO_ROOT, 'dist/homelab-agent.mjs');

async function gone(pid: number): Promise<void> {
  await waitFor(async () => (await cmdlineOf(pid)) === null, { timeoutMs: 10_000, what: `pid ${pid} gone` });
}

describe('homelab agent from a checkout', () => {
  let tmp: TempDir;
  let hub: HubProcess;
  const started: LoggedProcess[] = [];

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-agent-launch-');
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { launched: 'node: launched\nservices: {}\n' });
    hub = await startHubProcess({ root: path.join(tmp.path, 'root'), hostsDir, name: 'agent-launch-hub' });
  });

  afterAll(async () => {
    for (const p of started) await p.stop();
    await hub?.proc.stop();
    await tmp?.cleanup();
  });

  const startAgent = async (name: string) => {
    const proc = homelab(
      ['agent', '--node', 'launched', '--mqtt-url', hub.mqttUrl, '--docker-socket', inject('dockerSocket'), '--state-dir', path.join(tmp.path, 'state')],
      {
        name,
        env: await agentMqttEnv(hub.root, 'launched'),
      },
    );
    started.push(proc);
    await proc.waitForOutput('agent running', 60_000);
    return proc;
  };

  it("runs the agent-only bundle with the agent image's Node flags, and stops on SIGTERM with the agent's exit code", async () => {
    const proc = await startAgent('agent-launch-flags');
    const agent = await agentBundleProcess(proc.pid);
    expect(agent.argv).toEqual([
      process.execPath,
      ...AGENT_NODE_FLAGS,
      BUNDLE,
      'agent',
      '--node',
      'launched',
      '--mqtt-url',
      hub.mqttUrl,
      '--docker-socket',
      inject('dockerSocket'),
      '--state-dir',
      path.join(tmp.path, 'state'),
    ]);
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.output()).toContain('stopping');
    await gone(agent.pid);
  });

  it('leaves no agent running when the command is killed with SIGKILL', async () => {
    const proc = await startAgent('agent-launch-kill');
    const agent = await agentBundleProcess(proc.pid);
    proc.kill('SIGKILL');
    await proc.exited;
    await gone(agent.pid);
  });

  it('rebuilds the bundle when a source is newer, and not when nothing changed', async () => {
    const idOf = async () => {
      const st = await fs.stat(BUNDLE);
      return `${st.ino}:${st.mtimeMs}`;
    };
    const help = async () => {
      const proc = homelab(['agent', '--help'], { name: 'agent-launch-help' });
      expect(await proc.exited).toBe(0);
      expect(proc.output()).toMatch(/^Usage: homelab agent --node <name>/);
    };
    await help();
    const fresh = await idOf();
    await help();
    expect(await idOf()).toBe(fresh);

    // Every source is now newer than the bundle.
    const past = new Date(Date.now() - 3_600_000);
    await fs.utimes(BUNDLE, past, past);
    await help();
    const rebuilt = await idOf();
    expect(rebuilt).not.toBe(fresh);
    expect((await fs.stat(BUNDLE)).mtimeMs).toBeGreaterThan(past.getTime() + 60_000);

    // A bundle without its list of inputs cannot be checked: rebuilt too.
    await fs.rm(inputsFileOf(BUNDLE));
    await sleep(20);
    await help();
    expect(await idOf()).not.toBe(rebuilt);
    expect(JSON.parse(await fs.readFile(inputsFileOf(BUNDLE), 'utf8'))).toContain(path.join(REPO_ROOT, 'apps/cli/src/agent-main.ts'));
  });

  it('says what is wrong with its arguments, as the image does, with exit code 2', async () => {
    const proc = homelab(['agent', '--frobnicate'], { name: 'agent-launch-usage' });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain("homelab agent: Unknown option '--frobnicate'");
  });
});

describe('homelab up', () => {
  let tmp: TempDir;

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-up-');
    await writeHosts(path.join(tmp.path, 'hosts'), { here: 'node: here\nservices: {}\n' });
  });

  afterAll(async () => {
    await tmp?.cleanup();
  });

  const up = async (name: string) => {
    const args = [
      'up',
      '--root',
      path.join(tmp.path, 'root'),
      '--hosts',
      path.join(tmp.path, 'hosts'),
      '--node',
      'here',
      '--docker-socket',
      inject('dockerSocket'),
    ];
    const proc = homelab([...args, '--http-port', String(await freePort()), '--mqtt-port', String(await freePort())], { name });
    await proc.waitForOutput('agent running', 90_000);
    return proc;
  };

  it("starts its agent from the agent-only bundle with the agent's Node flags, and stops it on SIGTERM", async () => {
    const proc = await up('up-agent');
    const agent = await agentBundleProcess(proc.pid);
    expect(agent.pid).not.toBe(proc.pid);
    expect(agent.argv.slice(0, AGENT_NODE_FLAGS.length + 5)).toEqual([process.execPath, ...AGENT_NODE_FLAGS, BUNDLE, 'agent', '--node', 'here']);
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    await gone(agent.pid);
  });

  it('leaves no agent running when it is killed with SIGKILL', async () => {
    const proc = await up('up-kill');
    const agent = await agentBundleProcess(proc.pid);
    proc.kill('SIGKILL');
    await proc.exited;
    await gone(agent.pid);
  });
});
