import fs from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { FsActionStore } from '@homelab/action-store';
import { ACTION_STATES, type Action } from '@homelab/contracts';
import { makeTempDir, sleep, startMosquitto, waitFor, type LoggedProcess, type MosquittoHandle, type TempDir } from '@homelab/testkit';
import { pendingAction } from '@homelab/action-store/testing';
import { kill9 } from '../support/fault';
import { countContainerEvents, maintenanceHost } from '../support/docker-events';
import { readJson, startAgentProcess, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/**
 * kill -9 of the hub while an action moves on (pending → approved → running →
 * completed): 0 to 190 ms after the approval was answered, while the approve
 * request is in flight, and just after the agent journaled its result; on the
 * real hub, agent, broker and Docker engine. Every file visible after the kill
 * holds the content of its folder (the approver included); after the restart
 * the action is in exactly one folder, its audit names the approver, it ends
 * with the agent's result, and the container was restarted at most once per
 * action id.
 */
describe('hub killed with -9 while an approved action runs', () => {
  const docker = new Docker({ socketPath: inject('dockerSocket') });
  const image = inject('busyboxImage');
  const app = `hl-e2e-crash-${process.pid}`;
  const ROUNDS = 20;
  /** Extra rounds killed 0, 2, … ms after the approve request was sent, before its answer: the pending → approved step. */
  const IN_FLIGHT_ROUNDS = 6;
  /** Extra rounds killed 0, 3, … ms after the agent journaled its result: the running → completed step. */
  const RESULT_ROUNDS = 6;
  const hubEnv = { HOMELAB_COMMAND_TIMEOUT_MS: '40000', HOMELAB_EXECUTOR_INTERVAL_MS: '200', LOG_LEVEL: 'info' };
  const since = Math.floor(Date.now() / 1000) - 1;
  let tmp: TempDir;
  let root: string;
  let hostsDir: string;
  let mosquitto: MosquittoHandle;
  let hub: HubProcess;
  let agent: LoggedProcess;
  let store: FsActionStore;
  let failed = false;

  const startHub = (name: string) => startHubProcess({ root, hostsDir, name, mqttUrl: mosquitto.url, env: hubEnv });
  /** The container's restarts by the Docker API since the test began (one per executed container_restart). */
  const restarts = () => countContainerEvents(docker, since, { event: ['restart'], container: [app] });
  /**
   * Every `<id>.json` of this id in a state folder, with its content (null when unreadable). No other
   * file of the id may be there; right after a kill, hidden temp files and claims (swept at start) may.
   */
  const liveCopies = async (id: string, atKill = false) => {
    const out: { folder: string; action: Action | null }[] = [];
    for (const state of ACTION_STATES) {
      const names = await fs.readdir(path.join(root, 'actions', state));
      for (const name of names) if (name === `${id}.json`) out.push({ folder: state, action: await readJson(path.join(root, 'actions', state, name)) });
      const hiddenTemp = (n: string) => atKill && n.startsWith(`.${id}.`) && n.endsWith('.tmp');
      expect(
        names.filter((n) => n !== `${id}.json` && n.includes(id) && !hiddenTemp(n)),
        `${state}/ leftovers of ${id}`,
      ).toEqual([]);
    }
    return out;
  };
  const finished = (id: string) =>
    waitFor(
      async () => {
        const a = await store.get(id);
        return a && (a.state === 'completed' || a.state === 'failed') && a.result ? a : null;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `${id} completed or failed with a result` },
    );
  const journalDone = (id: string) =>
    waitFor(async () => (await readJson(path.join(tmp.path, 'agent-piha/journal', `${id}.json`)))?.state === 'done', {
      timeoutMs: 30_000,
      intervalMs: 2,
      what: `${id} done in the agent's journal`,
    });
  const newAction = async (id: string) => {
    const now = new Date().toISOString();
    expect(
      await store.create(
        pendingAction(id, { service: 'app', createdAt: now, updatedAt: now, audit: [{ at: now, state: 'pending', by: 'supervisor', via: 'supervisor' }] }),
      ),
    ).toBe('created');
  };
  const approve = async (id: string, by: string) => {
    const res = await hub.api(`/api/actions/${id}/approve`, { method: 'POST', body: JSON.stringify({ by }) });
    expect(res.status, await res.text()).toBe(200);
  };

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-crash-');
    root = path.join(tmp.path, 'root');
    hostsDir = path.join(tmp.path, 'hosts');
    // Exits at once on SIGTERM, so a restart takes a fraction of a second and the kills land before, during and after it.
    const c = await docker.createContainer({
      name: app,
      Image: image,
      Cmd: ['sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"],
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    await writeHosts(hostsDir, {
      piha: [...maintenanceHost('piha', 'the crash test writes its own actions'), '  app:', `    containers: [${app}]`, ''].join('\n'),
    });
    store = new FsActionStore({ root });
    await store.init();
    mosquitto = await startMosquitto();
    hub = await startHub('action-crash-hub-0');
    agent = await startAgentProcess({
      node: 'piha',
      mqttUrl: mosquitto.url,
      dockerSocket: inject('dockerSocket'),
      stateDir: path.join(tmp.path, 'agent-piha'),
      name: 'action-crash-agent',
    });
    await waitFor(async () => (await readJson(path.join(root, 'world/services.json')))?.services?.['piha/app']?.status === 'healthy', {
      timeoutMs: 40_000,
      what: 'piha/app healthy',
    });
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.proc.stop();
    await mosquitto?.stop();
    await docker
      .getContainer(app)
      .remove({ force: true })
      .catch(() => undefined);
    if (failed) console.log(`kept for inspection: ${tmp?.path}`);
    else await tmp?.cleanup();
  });

  it(`keeps state, audit and result together across ${ROUNDS} kills at 0–${(ROUNDS - 1) * 10} ms after the approval, ${IN_FLIGHT_ROUNDS} during it and ${RESULT_ROUNDS} around the result`, async () => {
    onTestFailed(() => {
      failed = true;
    });
    const seen: Record<string, number> = {};
    for (let round = 0; round < ROUNDS + IN_FLIGHT_ROUNDS + RESULT_ROUNDS; round += 1) {
      const id = `container-restart-piha-app-r${round}`;
      const by = `e2e-approver-${round}`;
      const before = await restarts();
      await newAction(id);
      let answered = true;
      if (round < ROUNDS) {
        await approve(id, by);
        await sleep(round * 10);
      } else if (round < ROUNDS + IN_FLIGHT_ROUNDS) {
        const answer = hub.api(`/api/actions/${id}/approve`, { method: 'POST', body: JSON.stringify({ by }) }).then(
          (r) => r.status,
          () => null,
        );
        await sleep((round - ROUNDS) * 2);
        await kill9(hub.proc);
        answered = (await answer) === 200;
      } else {
        await approve(id, by);
        await journalDone(id);
        await sleep((round - ROUNDS - IN_FLIGHT_ROUNDS) * 3);
      }
      if (hub.proc.running) await kill9(hub.proc);

      // Right after the kill: whatever is visible holds its folder's content (two copies only mid-transition).
      const atKill = await liveCopies(id, true);
      expect(atKill.length, `round ${round}: ${JSON.stringify(atKill.map((c) => c.folder))}`).toBeGreaterThanOrEqual(1);
      for (const copy of atKill) {
        expect(copy.action?.state, `round ${round}: ${copy.folder}/${id}.json holds ${copy.action?.state}`).toBe(copy.folder);
        const approver = copy.action?.audit.find((e) => e.state === 'approved')?.by;
        expect(approver, `round ${round}: approver in ${copy.folder}/`).toBe(copy.folder === 'pending' ? undefined : by);
      }
      const stateAtKill = atKill.map((c) => c.folder).join('+');
      seen[stateAtKill] = (seen[stateAtKill] ?? 0) + 1;

      hub = await startHub(`action-crash-hub-${round + 1}`);
      if ((await store.get(id))?.state === 'pending') {
        // The approval was not durable yet, so it was never answered 200; the operator approves again.
        expect(answered, `round ${round}: answered 200 but still pending`).toBe(false);
        await approve(id, by);
      }
      const done = await finished(id);
      // The new file is in place before the old one goes: give the last step its few milliseconds.
      await waitFor(async () => (await liveCopies(id, true)).length === 1, { timeoutMs: 5_000, intervalMs: 20, what: `${id} in one folder` });
      const after = await liveCopies(id);
      expect(
        after.map((c) => c.folder),
        `round ${round}`,
      ).toEqual([done.state]);
      expect(done.audit.filter((e) => e.state === 'approved').map((e) => e.by)).toEqual([by]);
      expect(done.audit.some((e) => e.note?.startsWith('recovered after crash'))).toBe(false);
      expect(done.result).toMatchObject({ actionId: id, node: 'piha', actionCreatedAt: done.createdAt });
      expect(done.result?.status).toBe(done.state);
      // The agent ran it at most once; a completed restart ran exactly once.
      await sleep(300);
      const ran = (await restarts()) - before;
      expect(ran, `round ${round}: container restarted ${ran} times`).toBe(done.state === 'completed' ? 1 : 0);
      if (done.state === 'failed') expect(done.result?.error?.code).toBe('interrupted');
    }
    console.log(`files at the kill, by folder: ${JSON.stringify(seen)}`);
  }, 900_000);

  it("recovers a result an earlier version lost (completed file still holding the running content) from the agent's journal", async () => {
    const id = 'container-restart-piha-app-lost';
    if (!hub.proc.running) hub = await startHub('action-crash-hub-again');
    const before = await restarts();
    await newAction(id);
    await approve(id, 'e2e-approver-lost');
    const done = await finished(id);
    expect(done.state).toBe('completed');
    await kill9(hub.proc);
    // What a crash between the rename into completed/ and the rewrite left with earlier versions.
    const file = path.join(root, 'actions/completed', `${id}.json`);
    const { result: _lost, ...running } = done;
    await fs.writeFile(file, `${JSON.stringify({ ...running, state: 'running', audit: done.audit.slice(0, -1) }, null, 2)}\n`);
    hub = await startHub('action-crash-hub-lost');
    const recovered = await finished(id);
    expect(recovered.state).toBe('completed');
    expect(recovered.result).toMatchObject({
      actionId: id,
      node: 'piha',
      status: 'completed',
      replayed: true,
      startedAt: done.result!.startedAt,
      output: done.result!.output,
    });
    expect(recovered.audit.map((e) => e.note ?? '')).toEqual(
      expect.arrayContaining([expect.stringMatching(/^result recovered from the agent's journal: completed on piha/)]),
    );
    expect((await restarts()) - before).toBe(1);
  });
});
