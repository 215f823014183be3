import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTempDir, sleep, waitFor, type LoggedProcess, type TempDir } from '@homelab/testkit';
import { homelab, readJson, startAgentProcess, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/**
 * A manual restart on the real engine (docs/actions.md, "Manual actions"): a
 * healthy service, a viewer who may not propose, an operator who proposes a
 * restart with `homelab actions propose`, the supervisor leaving the request
 * pending although the service is healthy, another operator approving it over
 * the API, the executor running it, and the audit saying who, how and from where.
 */
describe('a restart proposed by an operator, approved and run', () => {
  const docker = new Docker({ socketPath: inject('dockerSocket') });
  const container = `hl-e2e-manual-${process.pid}`;
  const ID = 'container-restart-piha-svc';
  let tmp: TempDir;
  let hub: HubProcess;
  let agent: LoggedProcess;

  const propose = async (token: string, name: string) => {
    const p = homelab(
      ['actions', 'propose', 'restart', 'piha', 'svc', '--hub', hub.httpUrl, '--token', token, '--by', 'carol', '--note', 'after the upgrade'],
      {
        name,
        env: { LOG_LEVEL: 'warn' },
      },
    );
    return { code: await p.exited, out: p.output() };
  };
  const actionIn = (state: string) => readJson(path.join(hub.root, 'actions', state, `${ID}.json`));
  const status = async () => {
    const world = (await (await hub.api('/api/world', { token: hub.auth.viewerToken })).json()) as { services: Record<string, { status: string }> };
    return world.services['piha/svc']?.status;
  };

  beforeAll(async () => {
    tmp = await makeTempDir('hl-manual-');
    const c = await docker.createContainer({ name: container, Image: inject('busyboxImage'), Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' } });
    await c.start();
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: `node: piha\nservices:\n  svc:\n    containers: [${container}]\n` });
    hub = await startHubProcess({ root: path.join(tmp.path, 'root'), hostsDir, name: 'manual-hub', env: { HOMELAB_EXECUTOR_INTERVAL_MS: '500' } });
    agent = await startAgentProcess({
      node: 'piha',
      mqttUrl: hub.mqttUrl,
      dockerSocket: inject('dockerSocket'),
      stateDir: path.join(tmp.path, 'agent-piha'),
      name: 'manual-agent',
      hubRoot: hub.root,
    });
    await waitFor(async () => (await status()) === 'healthy', { timeoutMs: 40_000, what: 'piha/svc healthy' });
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.proc.stop();
    await docker
      .getContainer(container)
      .remove({ force: true })
      .catch(() => undefined);
    await tmp?.cleanup();
  });

  it('refuses the proposal of a viewer and writes no action', async () => {
    const refused = await propose(hub.auth.viewerToken, 'manual-propose-viewer');
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/read-only/);
    expect(await actionIn('pending')).toBeNull();
  });

  it('keeps the operator’s request pending on a healthy service, runs it once approved, and audits who, via what and from where', async () => {
    const startedBefore = (await docker.getContainer(container).inspect()).State.StartedAt as string;
    const proposed = await propose(hub.auth.operatorToken, 'manual-propose-operator');
    expect(proposed.code, proposed.out).toBe(0);
    expect(proposed.out).toContain(`homelab actions approve ${ID}`);
    // A few supervisor cycles (1 s each) on a healthy service: an operator's request is not drift that resolved.
    await sleep(3500);
    const pending = await actionIn('pending');
    expect(pending).toMatchObject({ state: 'pending', risk: 'low', drift: { type: 'operator_request' } });

    const approved = await hub.api(`/api/actions/${ID}/approve`, {
      method: 'POST',
      body: JSON.stringify({ by: 'dave' }),
      headers: { 'user-agent': 'e2e-browser' },
    });
    expect(approved.status).toBe(200);
    const done = await waitFor(
      async () => {
        const a = await actionIn('completed');
        return a?.audit?.at(-1)?.state === 'completed' ? a : null;
      },
      { timeoutMs: 40_000, what: `${ID} completed` },
    );
    expect(done.audit.map((e: any) => [e.state, e.by, e.via])).toEqual([
      ['pending', 'carol', 'cli'],
      ['approved', 'dave', 'api'],
      ['running', 'executor', 'executor'],
      ['completed', 'executor', 'executor'],
    ]);
    expect(done.audit[0]).toMatchObject({ note: 'after the upgrade', from: { ip: expect.stringMatching(/127\.0\.0\.1/) } });
    expect(done.audit[1].from).toMatchObject({ userAgent: 'e2e-browser' });
    expect((await docker.getContainer(container).inspect()).State.StartedAt).not.toBe(startedBefore);
  });

  it('shows the preview of a disk cleanup proposed over the API before anyone approves it', async () => {
    const res = await hub.api('/api/actions', { method: 'POST', body: JSON.stringify({ type: 'disk_cleanup', node: 'piha', by: 'carol' }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 'disk-cleanup-piha', risk: 'guarded', state: 'pending' });
    const previewed = await waitFor(
      async () => {
        const a = await readJson(path.join(hub.root, 'actions', 'pending', 'disk-cleanup-piha.json'));
        return a?.preview ? a : null;
      },
      { timeoutMs: 30_000, what: 'the cleanup preview on the pending action' },
    );
    expect(previewed.preview).toMatchObject({ removed: expect.any(Array), reclaimedBytes: expect.any(Number) });
    // The desired service's container is never among what it would remove.
    expect(JSON.stringify(previewed.preview.removed)).not.toContain(container);
    expect((await hub.api('/api/actions/disk-cleanup-piha/reject', { method: 'POST', body: '{}' })).status).toBe(200);
  });
});
