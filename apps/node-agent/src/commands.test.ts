import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, topics, type Command, type ServiceSpec } from '@homelab/contracts';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { CommandHandler } from './commands';
import { InboundCounters } from './inbound';
import { CommandJournal } from './journal';
import { FakeDocker, FakeLink, silentLog } from './testing/fakes';

describe('CommandHandler', () => {
  let tmp: TempDir;
  let docker: FakeDocker;
  let link: FakeLink;
  let clock: ManualClock;
  let counters: InboundCounters;
  let journal: CommandJournal;
  let desired: Record<string, ServiceSpec>;

  const make = () =>
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
      stopTimeoutSec: 1,
      maxPayloadBytes: 64 * 1024,
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
    counters = new InboundCounters();
    journal = new CommandJournal(path.join(tmp.path, 'journal'));
    await journal.init();
    desired = {
      z2m: { monitor: true, containers: ['z2m', 'z2m-db'] },
      ha: { monitor: false },
    };
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

  it('answers a redelivered command from the journal with replayed=true and never runs it twice', async () => {
    const h = make();
    const first = await send(h, cmd());
    const again = await send(h, cmd());
    const fromNewProcess = await send(make(), cmd({ issuedAt: '2026-01-01T00:00:04.000Z' }));
    expect(docker.restarts).toEqual(['z2m', 'z2m-db']);
    expect(again).toEqual({ ...first, replayed: true });
    expect(fromNewProcess).toEqual({ ...first, replayed: true });
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
    { why: 'a type other than container_restart', c: cmd({ type: 'redeploy' }), code: 'unsupported' },
    { why: 'a container_restart without a service', c: cmd({ service: undefined }), code: 'unknown_service' },
    { why: 'a deadline passed (beyond the skew allowance)', c: cmd({ deadline: '2025-12-31T23:58:00.000Z' }), code: 'deadline_exceeded' },
  ])('refuses a command for $why with a failed result and runs nothing', async ({ c, code }) => {
    const r = await send(make(), c);
    expect(r).toMatchObject({ actionId: c.actionId, node: 'piha', status: 'failed', error: { code } });
    expect(link.json('/results')).toHaveLength(1);
    expect(docker.restarts).toEqual([]);
  });

  it('tolerates a deadline passed by less than the clock-skew allowance', async () => {
    const r = await send(make(), cmd({ deadline: '2026-01-01T00:00:00.000Z' }));
    expect(r).toMatchObject({ status: 'completed' });
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
});
