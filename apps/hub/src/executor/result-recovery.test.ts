import fs from 'node:fs/promises';
import path from 'node:path';
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

const newExecutor = (timeout = 40_000) => new Executor({ store, clock, log, commandTimeoutMs: timeout, publishCommand: async (cmd) => void sent.push(cmd) });

function result(over: Partial<CommandResult> = {}): CommandResult {
  return {
    actionId: ID,
    node: 'piha',
    status: 'completed',
    startedAt: '2026-11-26T15:00:00.500Z',
    finishedAt: '2026-11-26T15:00:02.000Z',
    output: 'restarted zigbee2mqtt',
    ...over,
  };
}

/**
 * An action the executor sent, then moved to `outcome/` the way earlier
 * versions did when a crash hit between the rename and the rewrite: the file
 * still holds the running content, without the result; a restart repairs it.
 */
async function resultLostIn(outcome: 'completed' | 'failed'): Promise<Command> {
  await store.create(action(ID));
  await store.transition(ID, 'pending', 'approved', (a) => a);
  await newExecutor().runOnce();
  const command = sent.at(-1)!;
  const dir = path.join(tmp.path, 'actions');
  await fs.rename(path.join(dir, 'running', `${ID}.json`), path.join(dir, outcome, `${ID}.json`));
  clock.advance(60_000);
  store = new FsActionStore({ root: tmp.path, clock });
  await store.init();
  sent = [];
  return command;
}

beforeEach(async () => {
  tmp = await makeTempDir('result-recovery');
  clock = new ManualClock('2026-11-26T15:00:00.000Z');
  store = new FsActionStore({ root: tmp.path, clock });
  await store.init();
  sent = [];
});
afterEach(() => tmp.cleanup());

describe('results lost by a crash between rename and rewrite', () => {
  it.each(['completed', 'failed'] as const)(
    "asks the agent's journal for the result of a %s action that has none and records the replay in place",
    async (outcome) => {
      const command = await resultLostIn(outcome);
      expect((await store.get(ID))?.result).toBeUndefined();
      const ex = newExecutor();
      expect((await ex.runOnce()).resultAsked).toEqual([ID]);
      // The same bytes as the first send: the agent's journal answers without running it again.
      expect(sent).toEqual([command]);

      const replay = result({ status: outcome, replayed: true });
      expect(await ex.handleResult(replay)).toBe('applied');
      const done = await store.get(ID);
      expect(done).toMatchObject({ state: outcome, result: replay });
      expect(done?.audit.at(-1)).toMatchObject({ state: outcome, by: 'executor', note: expect.stringMatching(/^result recovered from the agent's journal: /) });
      clock.advance(60_000);
      expect((await ex.runOnce()).resultAsked).toEqual([]);
      expect(await ex.handleResult(replay)).toBe('not_running');
    },
  );

  it('asks again at the resend interval and, without an answer, notes after the timeout that the result stays unknown, never asking again', async () => {
    await resultLostIn('completed');
    const ex = newExecutor(40_000); // resend every 10 s
    await ex.runOnce();
    clock.advance(5_000);
    expect((await ex.runOnce()).resultAsked).toEqual([]);
    clock.advance(5_000);
    expect((await ex.runOnce()).resultAsked).toEqual([ID]);
    clock.advance(30_000);
    await ex.runOnce();
    expect((await store.get(ID))?.audit.at(-1)?.note).toBe("no answer from the agent's journal within 40 s; the result stays unknown");
    const after = sent.length;
    expect((await newExecutor().runOnce()).resultAsked).toEqual([]);
    expect(sent).toHaveLength(after);
  });

  it("does not take a refusal for the lost result: the agent's journal has none, which the audit says", async () => {
    await resultLostIn('completed');
    const ex = newExecutor();
    await ex.runOnce();
    const refusal = result({ status: 'failed', error: { code: 'deadline_exceeded', message: 'received after its deadline' } });
    expect(await ex.handleResult(refusal)).toBe('not_running');
    const a = await store.get(ID);
    expect(a).toMatchObject({ state: 'completed' });
    expect(a?.result).toBeUndefined();
    expect(a?.audit.at(-1)?.note).toMatch(/^the agent's journal has no result for it: failed on piha/);
    clock.advance(60_000);
    expect((await ex.runOnce()).resultAsked).toEqual([]);
  });

  it('leaves finished actions that have their result, or never had a command, alone', async () => {
    await store.create(action(ID));
    await store.transition(ID, 'pending', 'rejected', (a) => a);
    await store.create(action('container-restart-piha-other', { service: 'other' }));
    await store.transition('container-restart-piha-other', 'pending', 'approved', (a) => a);
    const ex = newExecutor();
    await ex.runOnce();
    await ex.handleResult(result({ actionId: 'container-restart-piha-other' }));
    expect((await newExecutor().runOnce()).resultAsked).toEqual([]);
  });
});
