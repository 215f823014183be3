import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, topics, type Command, type ServiceSpec } from '@homelab/contracts';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { CommandHandler, type CommandHandlerDeps } from './commands';
import { HubClock } from './hub-clock';
import { InboundCounters } from '../delivery/inbound';
import { CommandJournal } from './journal';
import type { ComposeInvocation, ComposeOutcome } from './compose';
import { FakeCleanupDocker, FakeDocker, FakeLink, silentLog } from '../testing/fakes';

describe('CommandHandler', () => {
  let tmp: TempDir;
  let docker: FakeDocker;
  let link: FakeLink;
  let clock: ManualClock;
  let counters: InboundCounters;
  let journal: CommandJournal;
  let desired: Record<string, ServiceSpec>;
  let cleanupDocker: FakeCleanupDocker;
  let composeCalls: { inv: ComposeInvocation; env: NodeJS.ProcessEnv; timeoutMs: number }[];
  let composeOutcome: ComposeOutcome;
  /** The agent's monotonic clock (ms): unlike `clock`, the agent's wall clock, it never jumps. */
  let mono: number;

  const make = (over: Partial<CommandHandlerDeps> = {}) =>
    new CommandHandler({
      node: 'piha',
      desiredSpec: (s) => desired[s],
      docker,
      journal,
      link,
      clock,
      log: silentLog,
      counters,
      clockSkewMs: 60_000,
      hubClock: new HubClock(() => mono),
      stopTimeoutSec: 1,
      maxPayloadBytes: 64 * 1024,
      cleanupDocker,
      desiredServices: () => desired,
      dockerSocket: '/run/test-docker.sock',
      stackRoots: ['/srv'],
      env: { PATH: '/usr/bin' },
      runCompose: async (inv, opts) => {
        composeCalls.push({ inv, ...opts });
        return composeOutcome;
      },
      ...over,
    });
  const cmd = (over: Partial<Command> = {}): Command => ({
    actionId: 'container-restart-piha-z2m',
    node: 'piha',
    type: 'container_restart',
    service: 'z2m',
    issuedAt: '2026-01-01T00:00:00.000Z',
    deadline: '2026-01-01T00:02:00.000Z',
    actionCreatedAt: '2025-12-31T23:59:00.000Z',
    ...over,
  });
  const send = (h: CommandHandler, c: unknown) => h.handle(topics.commands('piha'), Buffer.from(typeof c === 'string' ? c : JSON.stringify(c)));

  beforeEach(async () => {
    tmp = await makeTempDir('hl-cmd');
    docker = new FakeDocker();
    docker.set('z2m', 'exited');
    docker.set('z2m-db', 'running');
    link = new FakeLink();
    clock = new ManualClock('2026-01-01T00:00:05.000Z');
    mono = 0;
    counters = new InboundCounters();
    journal = new CommandJournal(path.join(tmp.path, 'journal'));
    await journal.init();
    desired = {
      z2m: { monitor: true, containers: ['z2m', 'z2m-db'] },
      ha: { monitor: false },
      web: { monitor: true, compose: { file: '/srv/web/compose.yml', project: 'web', build: true, command: 'docker-compose' } },
    };
    cleanupDocker = new FakeCleanupDocker();
    composeCalls = [];
    composeOutcome = { ok: true, exitCode: 0, timedOut: false, output: 'Recreating web_web_1 ... done\n' };
  });
  afterEach(() => tmp.cleanup());

  it('restarts every container of the service, journals the result, then publishes it QoS 1', async () => {
    const r = await send(make(), cmd());
    expect(docker.restarts).toEqual(['z2m', 'z2m-db']);
    expect(r).toMatchObject({
      actionId: 'container-restart-piha-z2m',
      node: 'piha',
      status: 'completed',
      output: 'restarted z2m\nrestarted z2m-db',
      actionCreatedAt: '2025-12-31T23:59:00.000Z',
    });
    expect(link.sent[0]).toMatchObject({ topic: topics.results('piha'), opts: { qos: 1 } });
    expect(JSON.parse(link.sent[0]!.payload)).toEqual(r);
    const stored = JSON.parse(await fs.readFile(journal.fileOf('container-restart-piha-z2m'), 'utf8'));
    expect(stored).toMatchObject({ state: 'done', result: r });
  });

  it('answers a fault inside the agent during a redeploy with a failed result at once, journaled, not left running', async () => {
    desired.web = { monitor: true, compose: { file: '/srv/web/compose.yml', project: 'web', build: false, command: 'docker-compose' } };
    const h = make({
      runCompose: () => {
        throw new RangeError('The value of "timeout" is out of range');
      },
    });
    const r = await send(h, cmd({ actionId: 'redeploy-piha-web', type: 'redeploy', service: 'web' }));
    expect(r).toMatchObject({ status: 'failed', error: { code: 'agent_error' } });
    expect(r!.error!.message).toContain('timeout');
    const stored = JSON.parse(await fs.readFile(journal.fileOf('redeploy-piha-web'), 'utf8'));
    expect(stored).toMatchObject({ state: 'done', result: r });
  });

  it('answers a redelivered command from the journal with replayed=true and never runs it twice', async () => {
    const h = make();
    const first = await send(h, cmd());
    const again = await send(h, cmd());
    const fromNewProcess = await send(make(), cmd({ issuedAt: '2026-01-01T00:00:04.000Z' }));
    expect(docker.restarts).toEqual(['z2m', 'z2m-db']);
    expect(again).toEqual({ ...first, replayed: true });
    expect(fromNewProcess).toEqual({ ...first, replayed: true });
  });

  it('runs the redeploys of one compose project one after the other, and of different projects side by side', async () => {
    desired.api = { monitor: true, compose: { file: '/srv/web/compose.yml', project: 'web', service: 'api', build: false, command: 'docker-compose' } };
    desired.db = { monitor: true, compose: { file: '/srv/db/compose.yml', project: 'db', build: false, command: 'docker-compose' } };
    const running = new Map<string, () => void>();
    const together: string[][] = [];
    const h = make({
      runCompose: (inv) =>
        new Promise<ComposeOutcome>((resolve) => {
          const service = inv.args.at(-1)!;
          running.set(service, () => {
            running.delete(service);
            resolve(composeOutcome);
          });
          together.push([...running.keys()].sort());
        }),
    });
    const redeploy = (service: string) => send(h, cmd({ actionId: `redeploy-piha-${service}`, type: 'redeploy', service }));
    const all = Promise.all([redeploy('web'), redeploy('api'), redeploy('db')]);
    const until = async (size: number) => {
      for (let i = 0; i < 400 && running.size !== size; i += 1) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50)); // nothing more starts
      return [...running.keys()].sort();
    };
    // db (its own project) runs beside the first of web and api; the other waits for it (one project).
    const first = await until(2);
    expect(first).toHaveLength(2);
    expect(first).toContain('db');
    const webRun = first.find((s) => s !== 'db')!;
    running.get(webRun)!();
    const second = await until(2);
    expect(second).toEqual([webRun === 'web' ? 'api' : 'web', 'db'].sort());
    for (const release of [...running.values()]) release();
    expect((await all).map((r) => r?.status)).toEqual(['completed', 'completed', 'completed']);
    expect(together.some((t) => t.includes('web') && t.includes('api'))).toBe(false);
  });

  it('runs a duplicate that arrives during execution only once', async () => {
    const h = make();
    const [a, b] = await Promise.all([send(h, cmd()), send(h, cmd())]);
    expect(docker.restarts).toEqual(['z2m', 'z2m-db']);
    expect(a!.replayed).toBeUndefined();
    expect(b!.replayed).toBe(true);
  });

  it('answers failed "interrupted" when an earlier process died mid-execution, without running anything', async () => {
    await journal.markStarted(cmd(), '2026-01-01T00:00:01.000Z');
    const r = await send(make(), cmd());
    expect(docker.restarts).toEqual([]);
    expect(r).toMatchObject({ status: 'failed', error: { code: 'interrupted' }, startedAt: '2026-01-01T00:00:01.000Z' });
    const later = await send(make(), cmd());
    expect(later).toMatchObject({ status: 'failed', error: { code: 'interrupted' }, replayed: true });
    expect(docker.restarts).toEqual([]);
  });

  it('runs a later action that reuses the id (new actionCreatedAt), and refuses a stale older one', async () => {
    const h = make();
    await send(h, cmd());
    const next = await send(h, cmd({ actionCreatedAt: '2026-01-01T00:00:03.000Z' }));
    expect(next).toMatchObject({ status: 'completed' });
    expect(docker.restarts).toHaveLength(4);
    const stale = await send(h, cmd());
    expect(stale).toMatchObject({ status: 'failed', error: { code: 'superseded' }, actionCreatedAt: '2025-12-31T23:59:00.000Z' });
    expect(docker.restarts).toHaveLength(4);
  });

  it.each([
    { why: 'another node', c: cmd({ node: 'chelsty-ha' }), code: 'wrong_node' },
    { why: 'a service not in the desired state', c: cmd({ service: 'unknown' }), code: 'unknown_service' },
    { why: 'a monitor: false service', c: cmd({ service: 'ha' }), code: 'not_monitored' },
    { why: 'a redeploy of a service without compose settings', c: cmd({ type: 'redeploy', actionId: 'redeploy-piha-z2m' }), code: 'not_configured' },
    { why: 'a redeploy of a service not in the desired state', c: cmd({ type: 'redeploy', service: 'nope' }), code: 'unknown_service' },
    { why: 'a container_restart without a service', c: cmd({ service: undefined }), code: 'unknown_service' },
    { why: 'a deadline passed (beyond the skew allowance)', c: cmd({ deadline: '2025-12-31T23:58:00.000Z' }), code: 'deadline_exceeded' },
  ])('refuses a command for $why with a failed result and runs nothing', async ({ c, code }) => {
    const r = await send(make(), c);
    expect(r).toMatchObject({ actionId: c.actionId, node: 'piha', status: 'failed', error: { code } });
    expect(link.json('/results')).toHaveLength(1);
    expect(docker.restarts).toEqual([]);
    expect(composeCalls).toEqual([]);
    expect(cleanupDocker.removedContainers).toEqual([]);
  });

  it('tolerates a deadline passed by less than the clock-skew allowance', async () => {
    const r = await send(make(), cmd({ deadline: '2026-01-01T00:00:00.000Z' }));
    expect(r).toMatchObject({ status: 'completed' });
  });

  describe('judges deadlines in the hub time, whatever its own clock says', () => {
    const H = 3_600_000;
    it.each([
      { way: '5 h ahead', ms: 5 * H },
      { way: '5 h behind', ms: -5 * H },
    ])('runs a fresh command with its clock $way', async ({ ms }) => {
      clock.advance(ms);
      const r = await send(make(), cmd());
      expect(r).toMatchObject({ status: 'completed' });
      expect(docker.restarts).toEqual(['z2m', 'z2m-db']);
    });

    it('refuses a command delivered after its deadline passed in hub time, with its clock 5 h behind', async () => {
      clock.advance(-5 * H);
      const h = make();
      await send(h, cmd({ actionId: 'container-restart-piha-other', service: 'nope' })); // learns the hub time
      mono += 4 * 60_000; // the next command sat in the broker for 4 min: deadline + skew allowance passed
      const r = await send(h, cmd());
      expect(r).toMatchObject({ status: 'failed', error: { code: 'deadline_exceeded' } });
      expect(docker.restarts).toEqual([]);
    });

    it('sizes the compose timeout by the hub time with its clock 5 h ahead', async () => {
      clock.advance(5 * H);
      await send(make(), cmd({ actionId: 'redeploy-piha-web', type: 'redeploy', service: 'web' }));
      expect(composeCalls[0]!.timeoutMs).toBe(115_000);
    });
  });

  it('answers an invalid command it can address, and only counts one it cannot', async () => {
    const h = make();
    const r = await send(h, { actionId: 'a-1', node: 'piha', type: 'container_restart' });
    expect(r).toMatchObject({ actionId: 'a-1', status: 'failed', error: { code: 'invalid_command' } });
    expect(await send(h, '{garbage')).toBeNull();
    expect(await send(h, { actionId: '../../etc/passwd', node: 'piha' })).toBeNull();
    expect(counters.rejected).toMatchObject({ not_json: 1, invalid_schema: 2 });
    expect(link.sent).toHaveLength(1);
    expect(docker.restarts).toEqual([]);
  });

  it('reports a failed restart with docker_failed and stops at the failing container', async () => {
    docker.failRestart = 'z2m';
    const r = await send(make(), cmd());
    expect(r).toMatchObject({ status: 'failed', error: { code: 'docker_failed' } });
    expect(r!.output).toContain('restart z2m failed');
    expect(docker.restarts).toEqual([]);
  });

  const redeploy = (over: Partial<Command> = {}) => cmd({ actionId: 'redeploy-piha-web', type: 'redeploy', service: 'web', ...over });

  it('redeploys with docker-compose (argv, DOCKER_HOST of the agent socket, timeout before the deadline) and returns the output tail', async () => {
    const r = await send(make(), redeploy());
    expect(composeCalls).toHaveLength(1);
    const call = composeCalls[0]!;
    expect(call.inv).toEqual({
      file: 'docker-compose',
      args: ['-f', '/srv/web/compose.yml', '-p', 'web', 'up', '-d', '--force-recreate', '--build', '--', 'web'],
    });
    expect(call.env).toEqual({ PATH: '/usr/bin', DOCKER_HOST: 'unix:///run/test-docker.sock', COMPOSE_INTERACTIVE_NO_CLI: '1' });
    // deadline 00:02:00, hub time 00:00:00 (issuedAt, just received: the agent's own clock does not count), 5 s margin
    expect(call.timeoutMs).toBe(115_000);
    expect(r).toMatchObject({ status: 'completed', actionCreatedAt: '2025-12-31T23:59:00.000Z' });
    expect(r!.output).toBe('$ docker-compose -f /srv/web/compose.yml -p web up -d --force-recreate --build -- web\nRecreating web_web_1 ... done');
  });

  it('refuses a redeploy whose compose file is outside the stack roots, with the reason, before running compose', async () => {
    desired.web = { ...desired.web!, compose: { ...desired.web!.compose!, file: '/etc/compose.yml' } };
    const r = await send(make(), redeploy());
    expect(composeCalls).toEqual([]);
    expect(r).toMatchObject({ status: 'failed', error: { code: 'compose_file_refused' } });
    expect(r!.error!.message).toBe(
      "compose file /etc/compose.yml is outside the agent's stack roots (allowed: /srv; set HOMELAB_STACK_ROOTS on the agent to change it)",
    );
  });

  it('fails a redeploy whose compose file holds a NUL byte as not_configured with the reason, not as interrupted, and runs nothing', async () => {
    desired.web = { ...desired.web!, compose: { ...desired.web!.compose!, file: '/srv/web/\0compose.yml' } };
    const r = await send(make(), redeploy());
    expect(composeCalls).toEqual([]);
    expect(r).toMatchObject({ status: 'failed', error: { code: 'not_configured' } });
    expect(r!.error!.message).toMatch(/control characters/);
    const again = await send(make(), redeploy());
    expect(again).toEqual({ ...r, replayed: true });
  });

  it('journals a redeploy once: a redelivery is answered from the journal and compose is not run again', async () => {
    const h = make();
    const [a, b] = await Promise.all([send(h, redeploy()), send(h, redeploy())]);
    const c = await send(make(), redeploy());
    expect(composeCalls).toHaveLength(1);
    expect(a!.replayed).toBeUndefined();
    expect(b).toEqual({ ...a, replayed: true });
    expect(c).toEqual({ ...a, replayed: true });
  });

  it.each([
    { why: 'compose exits non-zero', outcome: { ok: false, exitCode: 1, timedOut: false, output: 'ERROR: no such image' }, code: 'compose_failed' },
    { why: 'compose is killed at its timeout', outcome: { ok: false, exitCode: null, timedOut: true, output: '' }, code: 'compose_timeout' },
    {
      why: 'compose cannot be started',
      outcome: { ok: false, exitCode: null, timedOut: false, output: '', spawnError: 'spawn docker-compose ENOENT' },
      code: 'compose_failed',
    },
  ])('answers a failed redeploy when $why', async ({ outcome, code }) => {
    composeOutcome = outcome;
    const r = await send(make(), redeploy());
    expect(r).toMatchObject({ status: 'failed', error: { code } });
  });

  it('runs disk_cleanup without a service and reports what it removed and kept', async () => {
    cleanupDocker.stopped = [
      { id: 'c1', name: 'leftover', labels: {}, bytes: 50 },
      { id: 'c2', name: 'z2m-db', labels: {}, bytes: 60 },
      { id: 'c3', name: 'keepme', labels: { 'homelab.keep': 'true' }, bytes: 70 },
    ];
    cleanupDocker.dangling = [{ id: 'sha256:d', labels: {}, bytes: 1000 }];
    const c = cmd({ actionId: 'disk-cleanup-piha', type: 'disk_cleanup', service: undefined });
    const r = await send(make(), c);
    expect(r).toMatchObject({ status: 'completed', cleanup: { reclaimedBytes: 1050 } });
    expect(cleanupDocker.removedContainers).toEqual(['c1']);
    expect(r!.cleanup!.kept.map((k) => k.name)).toEqual(['z2m-db', 'keepme']);
    const again = await send(make(), c);
    expect(again).toEqual({ ...r, replayed: true });
    expect(cleanupDocker.removedContainers).toEqual(['c1']);
  });

  it('answers a disk_cleanup dry run with what it would remove, removes nothing and journals nothing', async () => {
    cleanupDocker.stopped = [
      { id: 'c1', name: 'leftover', labels: {}, bytes: 50 },
      { id: 'c3', name: 'keepme', labels: { 'homelab.keep': 'true' }, bytes: 70 },
    ];
    cleanupDocker.dangling = [{ id: 'sha256:d', labels: {}, bytes: 1000 }];
    const real = cmd({ actionId: 'disk-cleanup-piha', type: 'disk_cleanup', service: undefined });
    const handler = make();
    const preview = await send(handler, { ...real, dryRun: true });
    expect(preview).toMatchObject({ status: 'completed', dryRun: true, cleanup: { reclaimedBytes: 1050 } });
    expect(preview!.cleanup!.removed.map((r) => r.name ?? r.id)).toEqual(['leftover', 'sha256:d']);
    expect(preview!.cleanup!.kept.map((k) => k.name)).toEqual(['keepme']);
    expect(cleanupDocker.removedContainers).toEqual([]);
    // The approved command afterwards really runs: the dry run did not take its journal slot.
    const done = await send(handler, real);
    expect(done).toMatchObject({ status: 'completed' });
    expect(done!.replayed).toBeUndefined();
    expect(cleanupDocker.removedContainers).toEqual(['c1']);
  });

  it('refuses a dry run of anything but disk_cleanup', async () => {
    const r = await send(make(), { ...cmd(), dryRun: true });
    expect(r).toMatchObject({ status: 'failed', dryRun: true, error: { code: 'unsupported' } });
  });
});
