import fs from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTempDir, waitFor, type LoggedProcess, type TempDir } from '@homelab/testkit';
import { readJson, startAgentProcess, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/**
 * Unreadable entries in the action folders on the real hub, agent and Docker
 * engine: a corrupt `actions/pending/<id>.json` must not block that service's
 * remediation, and a directory named `x.json` must not break the API, the
 * summary or the pages. Both are moved to `actions/quarantine/` with their
 * bytes, shown as findings, and the supervisor proposes again.
 */
describe('unreadable action files on the real hub', () => {
  const docker = new Docker({ socketPath: inject('dockerSocket') });
  const image = inject('busyboxImage');
  const app = `hl-e2e-quar-${process.pid}`;
  const RESTART = 'container-restart-piha-app';
  const GARBAGE = '{"id": "container-restart-piha-app", "state": "pend';
  let tmp: TempDir;
  let hub: HubProcess;
  let agent: LoggedProcess;

  const get = async (p: string) => {
    const res = await hub.api(p, { token: hub.auth.viewerToken });
    return { status: res.status, text: await res.text() };
  };

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-quar-');
    const c = await docker.createContainer({ name: app, Image: image, Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' } });
    await c.start();
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: `node: piha\nservices:\n  app:\n    containers: [${app}]\n    policy: {autoApprove: none}\n` });
    hub = await startHubProcess({ root: path.join(tmp.path, 'root'), hostsDir, name: 'action-quarantine-hub' });
    agent = await startAgentProcess({
      node: 'piha',
      mqttUrl: hub.mqttUrl,
      dockerSocket: inject('dockerSocket'),
      stateDir: path.join(tmp.path, 'agent-piha'),
      name: 'action-quarantine-agent',
      hubRoot: hub.root,
    });
    await waitFor(async () => (await readJson(path.join(hub.root, 'world/services.json')))?.services?.['piha/app']?.status === 'healthy', {
      timeoutMs: 40_000,
      what: 'piha/app healthy',
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.proc.stop();
    await docker
      .getContainer(app)
      .remove({ force: true })
      .catch(() => undefined);
    await tmp?.cleanup();
  });

  it('answers the API, the summary and the pages with 200 when a directory is named like an action, and names it in a finding', async () => {
    await fs.mkdir(path.join(hub.root, 'actions/completed/x.json'));
    await fs.writeFile(path.join(hub.root, 'actions/completed/x.json/inside'), 'kept');
    for (const p of ['/api/actions', '/api/actions?state=completed', '/summary', '/summary?format=markdown', '/', '/actions', '/history']) {
      const res = await get(p);
      expect(res.status, `${p}: ${res.text.slice(0, 300)}`).toBe(200);
    }
    const finding = await waitFor(
      async () =>
        ((await (await hub.api('/summary', { token: hub.auth.viewerToken })).json()) as any).findings.find(
          (f: any) => f.kind === 'action_file_quarantined' && f.message.includes('actions/completed/x.json'),
        ),
      { timeoutMs: 20_000, what: 'a finding about actions/completed/x.json' },
    );
    expect(finding.file).toMatch(/^actions\/quarantine\/completed\/x\.json--\d{8}T\d{9}Z$/);
    expect(await fs.readFile(path.join(hub.root, finding.file, 'inside'), 'utf8')).toBe('kept');
    await expect(fs.access(path.join(hub.root, 'actions/completed/x.json'))).rejects.toThrow();
    expect((await get('/')).text).toContain(finding.file);
    expect((await get('/summary?format=markdown')).text).toContain(`action_file_quarantined ${finding.file}`);
  });

  it('proposes a restart again for a service whose pending action file is corrupt, keeping the bytes aside', async () => {
    // Independent of the test above (a hub that could not move the directory aside would still fail on it).
    await fs.rm(path.join(hub.root, 'actions/completed/x.json'), { recursive: true, force: true });
    await fs.writeFile(path.join(hub.root, 'actions/pending', `${RESTART}.json`), GARBAGE);
    await docker.getContainer(app).stop({ t: 0 });
    const pending = await waitFor(
      async () => {
        const a = await readJson(path.join(hub.root, 'actions/pending', `${RESTART}.json`));
        return a?.state === 'pending' ? a : null;
      },
      { timeoutMs: 40_000, what: `a readable actions/pending/${RESTART}.json` },
    );
    expect(pending).toMatchObject({ id: RESTART, node: 'piha', service: 'app', drift: { reason: 'containers_not_running' } });
    const summary = (await (await hub.api('/summary', { token: hub.auth.viewerToken })).json()) as any;
    expect(summary.actions.pending.map((a: any) => a.id)).toContain(RESTART);
    const finding = await waitFor(
      async () =>
        ((await (await hub.api('/summary', { token: hub.auth.viewerToken })).json()) as any).findings.find(
          (f: any) => f.kind === 'action_file_quarantined' && f.message.startsWith(`actions/pending/${RESTART}.json`),
        ),
      { timeoutMs: 20_000, what: `a finding about actions/pending/${RESTART}.json` },
    );
    expect(finding.message).toContain('not JSON');
    expect(await fs.readFile(path.join(hub.root, finding.file), 'utf8')).toBe(GARBAGE);
    expect(hub.proc.output()).toMatch(/unreadable action file moved to quarantine/);
    // And the remediation goes on: approved, the agent restarts the container.
    expect((await hub.api(`/api/actions/${RESTART}/approve`, { method: 'POST', body: JSON.stringify({ by: 'e2e-operator' }) })).status).toBe(200);
    await waitFor(async () => (await readJson(path.join(hub.root, 'actions/completed', `${RESTART}.json`)))?.result?.status === 'completed', {
      timeoutMs: 40_000,
      what: `${RESTART} completed`,
    });
    expect((await docker.getContainer(app).inspect()).State.Running).toBe(true);
  });
});
