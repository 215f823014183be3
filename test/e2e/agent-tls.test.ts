import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, makeTempDir, selfSignedCert, waitFor, type LoggedProcess, type TempDir } from '@homelab/testkit';
import { agentMqttEnv } from '../support/mqtt-identities';
import { homelab, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/**
 * The agent as users run it (the agent-only bundle, docs/deploy.md) over MQTT with TLS to the
 * hub's embedded broker (docs/security.md, "MQTT across anything you do not trust: TLS"): the
 * bundle's build replaces and trims modules, and this is the path through Node's TLS.
 */
describe('homelab agent over mqtts://', () => {
  let tmp: TempDir;
  let hub: HubProcess;
  let tlsPort: number;
  let cert: string;
  const started: LoggedProcess[] = [];

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-agent-tls-');
    const tls = selfSignedCert(tmp.path);
    cert = tls.cert;
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { sealed: 'node: sealed\nservices: {}\n' });
    tlsPort = await freePort();
    hub = await startHubProcess({
      root: path.join(tmp.path, 'root'),
      hostsDir,
      name: 'agent-tls-hub',
      env: { HOMELAB_MQTT_TLS_CERT: cert, HOMELAB_MQTT_TLS_KEY: tls.key, HOMELAB_MQTT_TLS_PORT: String(tlsPort) },
    });
  });

  afterAll(async () => {
    for (const p of started) await p.stop();
    await hub?.proc.stop();
    await tmp?.cleanup();
  });

  const startAgent = async (name: string, extra: string[]) => {
    const args = ['agent', '--node', 'sealed', '--mqtt-url', `mqtts://127.0.0.1:${tlsPort}`, '--docker-socket', inject('dockerSocket')];
    const proc = homelab([...args, '--state-dir', path.join(tmp.path, `state-${name}`), ...extra], { name, env: await agentMqttEnv(hub.root, 'sealed') });
    started.push(proc);
    return proc;
  };

  it('reaches the hub through the TLS listener when it trusts the certificate, and is seen online', async () => {
    const agent = await startAgent('agent-tls-trusting', ['--mqtt-ca', cert]);
    await agent.waitForOutput('agent running', 60_000);
    await waitFor(
      async () => {
        const summary = (await (await hub.api('/summary')).json()) as { nodes?: Array<{ node: string; online?: boolean }> };
        return summary.nodes?.some((n) => n.node === 'sealed' && n.online === true) ?? false;
      },
      { timeoutMs: 30_000, what: 'node sealed online at the hub' },
    );
  });

  it('refuses a broker whose certificate it does not trust, and says why', async () => {
    const agent = await startAgent('agent-tls-untrusting', []);
    await agent.waitForOutput('self-signed certificate', 30_000);
    expect(agent.output()).toContain('mqtt error');
  });
});
