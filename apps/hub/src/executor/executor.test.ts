import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, type Command, type CommandResult } from '@homelab/contracts';
import { FsActionStore } from '@homelab/action-store';
import { createLogger } from '@homelab/logging';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { action } from '../supervisor/test-fixtures';
import { Executor } from './executor';

const log = createLogger('test', { level: 'silent' });
const ID = 'container-restart-piha-zigbee2mqtt';
let tmp: TempDir;
let clock: ManualClock;
let store: FsActionStore;
let sent: Command[];
let failSends: boolean;

const newExecutor = (timeout = 120_000) =>
  new Executor({
    store,
    clock,
    log,
    commandTimeoutMs: timeout,
    publishCommand: async (cmd) => {
      if (failSends) throw new Error('broker down');
      sent.push(cmd);
    },
  });

function result(over: Partial<CommandResult> = {}): CommandResult {
  const at = clock.now().toISOString();
  return {
    actionId: ID,
    node: 'piha',
    status: 'completed',
    startedAt: at,
    finishedAt: new Date(clock.now().getTime() + 2500).toISOString(),
    output: 'restarted zigbee2mqtt',
    ...over,
  };
}

async function approved(id = ID): Promise<void> {
  await store.create(action(id));
  await store.transition(id, 'pending', 'approved', (a) => a);
}

beforeEach(async () => {
  tmp = await makeTempDir('executor');
  clock = new ManualClock('2026-11-26T15:00:00.000Z');
  store = new FsActionStore({ root: tmp.path, clock });
  await store.init();
  sent = [];
  failSends = false;
});
afterEach(() => tmp.cleanup());

describe('Executor', () => {
  it('moves an approved action to running, sends its command, and completes it on the result', async () => {
    await approved();
    const ex = newExecutor();
    expect((await ex.runOnce()).started).toEqual([ID]);
    const running = await store.get(ID);
    expect(running).toMatchObject({ state: 'running', command: { sentAt: '2026-11-26T15:00:00.000Z', deadline: '2026-11-26T15:02:00.000Z', attempts: 1 } });
    expect(running?.audit.at(-1)).toMatchObject({ state: 'running', by: 'executor', via: 'executor' });
    expect(sent).toEqual([
      {
        actionId: ID,
        node: 'piha',
        type: 'container_restart',
        service: 'zigbee2mqtt',
        issuedAt: '2026-11-26T15:00:00.000Z',
        deadline: '2026-11-26T15:02:00.000Z',
        actionCreatedAt: running?.createdAt,
      },
    ]);

    clock.advance(3000);
    const r = result();
    expect(await ex.handleResult(r)).toBe('applied');
    const done = await store.get(ID);
    expect(done).toMatchObject({ state: 'completed', result: r });
    expect(done?.audit.at(-1)).toMatchObject({ state: 'completed', by: 'executor', note: 'completed on piha in 2.5 s' });
  });

  it('records a failed result as failed, with the error code in the audit note', async () => {
    await approved();
    const ex = newExecutor();
    await ex.runOnce();
    expect(await ex.handleResult(result({ status: 'failed', error: { code: 'docker_failed', message: 'no such container' } }))).toBe('applied');
    expect(await store.get(ID)).toMatchObject({ state: 'failed', result: { error: { code: 'docker_failed' } } });
  });

  it('fails a running action with deadline_exceeded when no result came in time', async () => {
    await approved();
    const ex = newExecutor(60_000);
    await ex.runOnce();
    clock.advance(59_999);
    expect((await ex.runOnce()).timedOut).toEqual([]);
    clock.advance(1);
    expect((await ex.runOnce()).timedOut).toEqual([ID]);
    expect(await store.get(ID)).toMatchObject({
      state: 'failed',
      result: { status: 'failed', error: { code: 'deadline_exceeded' }, startedAt: '2026-11-26T15:00:00.000Z', finishedAt: '2026-11-26T15:01:00.000Z' },
    });
  });

  it('ignores a late result after the deadline but notes it in the audit', async () => {
    await approved();
    const ex = newExecutor(60_000);
    await ex.runOnce();
    clock.advance(61_000);
    await ex.runOnce();
    expect(await ex.handleResult(result())).toBe('not_running');
    const a = await store.get(ID);
    expect(a).toMatchObject({ state: 'failed', result: { error: { code: 'deadline_exceeded' } } });
    expect(a?.audit.at(-1)?.note).toMatch(/^late result after the deadline: completed on piha/);
  });

  it('ignores a result for an unknown action', async () => {
    const ex = newExecutor();
    expect(await ex.handleResult(result({ actionId: 'redeploy-piha-nothing' }))).toBe('unknown_action');
    expect(await store.list()).toEqual([]);
  });

  it('ignores a duplicate result after completion', async () => {
    await approved();
    const ex = newExecutor();
    await ex.runOnce();
    const first = result();
    expect(await ex.handleResult(first)).toBe('applied');
    expect(await ex.handleResult(result({ status: 'failed', replayed: true }))).toBe('not_running');
    expect(await store.get(ID)).toMatchObject({ state: 'completed', result: first });
  });

  it('ignores a result sent by another node than the action is for', async () => {
    await approved();
    const ex = newExecutor();
    await ex.runOnce();
    expect(await ex.handleResult(result({ node: 'chelsty-infra' }))).toBe('node_mismatch');
    expect((await store.get(ID))?.state).toBe('running');
  });

  it('ignores a result that belongs to an earlier occurrence of the same action id', async () => {
    await approved();
    const ex = newExecutor();
    await ex.runOnce();
    expect(await ex.handleResult(result({ actionCreatedAt: '2026-11-20T10:00:00.000Z' }))).toBe('stale_occurrence');
    expect((await store.get(ID))?.state).toBe('running');
  });

  it('after a hub restart re-sends the same command once instead of creating a new action', async () => {
    await approved();
    await newExecutor().runOnce();
    const original = sent[0];
    clock.advance(10_000);
    const restarted = newExecutor();
    expect((await restarted.runOnce()).resent).toEqual([ID]);
    expect((await restarted.runOnce()).resent).toEqual([]);
    expect(sent).toEqual([original, original]);
    expect(await store.list()).toHaveLength(1);
    expect(await store.get(ID)).toMatchObject({ state: 'running', command: { attempts: 2, sentAt: original?.issuedAt } });
    expect(await restarted.handleResult(result({ replayed: true }))).toBe('applied');
    expect((await store.get(ID))?.state).toBe('completed');
  });

  it('sends the command of an action a crash left running without one (claimed, never sent)', async () => {
    await approved();
    const fs = await import('node:fs/promises');
    const dir = `${tmp.path}/actions`;
    await fs.rename(`${dir}/approved/${ID}.json`, `${dir}/running/${ID}.json`);
    await store.init();
    clock.advance(5000);
    const ex = newExecutor();
    expect((await ex.runOnce()).resent).toEqual([ID]);
    expect(sent).toMatchObject([{ actionId: ID, issuedAt: '2026-11-26T15:00:05.000Z', deadline: '2026-11-26T15:02:05.000Z' }]);
    expect(await store.get(ID)).toMatchObject({ state: 'running', command: { attempts: 1 } });
  });

  it('retries sending while the broker is unreachable, without claiming the action twice', async () => {
    await approved();
    const ex = newExecutor();
    failSends = true;
    expect((await ex.runOnce()).unsent).toEqual([ID]);
    expect((await store.get(ID))?.state).toBe('running');
    failSends = false;
    clock.advance(1000);
    expect((await ex.runOnce()).unsent).toEqual([]);
    expect(sent).toHaveLength(1);
    await ex.runOnce();
    expect(sent).toHaveLength(1);
  });

  it('lets only one of two executors start the same approved action', async () => {
    await approved();
    const [a, b] = [newExecutor(), newExecutor()];
    const reports = await Promise.all([a.runOnce(), b.runOnce()]);
    expect(reports.flatMap((r) => r.started)).toEqual([ID]);
    expect(sent).toHaveLength(1);
  });

  it('runs on its interval with the injected clock and at once when kicked', async () => {
    const ex = newExecutor();
    ex.start(1000);
    await approved();
    ex.kick();
    clock.advance(0);
    await ex.idle();
    expect(sent).toHaveLength(1);
    await approved('redeploy-piha-mosquitto');
    clock.advance(1000);
    await ex.idle();
    expect(sent.map((c) => c.actionId)).toEqual([ID, 'redeploy-piha-mosquitto']);
    ex.stop();
  });

  it('sends the command again, unchanged, when no result came within the resend interval', async () => {
    await approved();
    const ex = newExecutor(40_000); // resend every 10 s
    await ex.runOnce();
    clock.advance(9_000);
    expect((await ex.runOnce()).repeated).toEqual([]);
    clock.advance(1_000);
    expect((await ex.runOnce()).repeated).toEqual([ID]);
    expect((await ex.runOnce()).repeated).toEqual([]);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual(sent[0]);
    expect(await ex.handleResult(result())).toBe('applied');
    clock.advance(20_000);
    await ex.runOnce();
    expect(sent).toHaveLength(2);
  });

  it('sends a running command again, unchanged, as soon as its node comes online instead of waiting for the resend interval', async () => {
    await approved();
    const ex = newExecutor(); // timed resend only after 30 s
    await ex.runOnce();
    clock.advance(2_000);
    expect((await ex.nodeOnline('chelsty-ha')).repeated).toEqual([]);
    expect((await ex.nodeOnline('piha')).repeated).toEqual([ID]);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual(sent[0]);
    expect(await ex.handleResult(result())).toBe('applied');
    expect((await ex.nodeOnline('piha')).repeated).toEqual([]);
    expect(sent).toHaveLength(2);
  });

  it('after a hub restart sends the command again when the node comes online, although the first cycle re-sent it already', async () => {
    await approved();
    await newExecutor().runOnce();
    clock.advance(10_000);
    const restarted = newExecutor();
    expect((await restarted.runOnce()).resent).toEqual([ID]);
    clock.advance(3_000);
    expect((await restarted.nodeOnline('piha')).repeated).toEqual([ID]);
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((c) => JSON.stringify(c))).size).toBe(1);
    expect(await store.get(ID)).toMatchObject({ state: 'running', command: { attempts: 2 } });
  });

  it('a birth arriving before the first cycle after a hub restart takes the restart path once (audited), and the cycle does not send it again', async () => {
    await approved();
    await newExecutor().runOnce();
    clock.advance(10_000);
    const restarted = newExecutor();
    expect((await restarted.nodeOnline('piha')).resent).toEqual([ID]);
    const report = await restarted.runOnce();
    expect([...report.resent, ...report.repeated]).toEqual([]);
    expect(sent).toHaveLength(2);
    expect((await store.get(ID))?.audit.at(-1)).toMatchObject({ state: 'running', note: 'command re-sent after hub restart' });
  });

  it('fails an action past its deadline when its node comes online, instead of sending it again', async () => {
    await approved();
    const ex = newExecutor(40_000);
    await ex.runOnce();
    clock.advance(40_000);
    expect((await ex.nodeOnline('piha')).timedOut).toEqual([ID]);
    expect(sent).toHaveLength(1);
    expect((await store.get(ID))?.state).toBe('failed');
  });

  it('records on the final audit entry how long the agent ran it and how long since the approval', async () => {
    await store.create(action(ID));
    await store.transition(ID, 'pending', 'approved', (a) => ({
      ...a,
      audit: [...a.audit, { at: clock.now().toISOString(), state: 'approved', by: 'alice', via: 'api', from: { ip: '127.0.0.1' } }],
    }));
    const ex = newExecutor();
    clock.advance(1_000);
    await ex.runOnce();
    clock.advance(4_000);
    await ex.handleResult(result({ startedAt: '2026-11-26T15:00:01.500Z', finishedAt: '2026-11-26T15:00:03.750Z' }));
    const done = await store.get(ID);
    expect(done?.audit.map((e) => [e.state, e.by, e.via])).toEqual([
      ['pending', 'supervisor', 'supervisor'],
      ['approved', 'alice', 'api'],
      ['running', 'executor', 'executor'],
      ['completed', 'executor', 'executor'],
    ]);
    expect(done?.audit.at(-1)).toMatchObject({ durationMs: 2_250, sinceApprovalMs: 5_000 });
  });

  it('records the time since approval on a deadline failure', async () => {
    await store.create(action(ID));
    await store.transition(ID, 'pending', 'approved', (a) => ({
      ...a,
      audit: [...a.audit, { at: clock.now().toISOString(), state: 'approved', by: 'policy', via: 'policy' }],
    }));
    const ex = newExecutor(10_000);
    await ex.runOnce();
    clock.advance(10_000);
    expect((await ex.runOnce()).timedOut).toEqual([ID]);
    expect((await store.get(ID))?.audit.at(-1)).toMatchObject({ state: 'failed', sinceApprovalMs: 10_000 });
    expect((await store.get(ID))?.audit.at(-1)?.durationMs).toBeUndefined();
  });
});
