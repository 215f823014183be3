import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION_STATES, ACTION_TRANSITIONS, ManualClock, type Action, type ActionState } from '@homelab/contracts';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { ACTION_FILE_VERSION } from './codec';
import { FsActionStore } from './fs-action-store';
import { crashingOps, CrashedError, filesUnder, pendingAction } from './test-support';

let tmp: TempDir;
const clock = new ManualClock('2026-11-26T15:00:00.000Z');
const ID = 'container-restart-piha-zigbee2mqtt';

beforeEach(async () => {
  tmp = await makeTempDir('action-store-recovery');
});
afterEach(() => tmp.cleanup());

const fileOf = (state: ActionState, id = ID) => path.join(tmp.path, 'actions', state, `${id}.json`);
/** The action a file holds, its format `version` (codec.ts) left aside. */
const readJson = async (file: string) => {
  const { version, ...action } = JSON.parse(await fs.readFile(file, 'utf8')) as Action & { version: number };
  expect(version).toBe(ACTION_FILE_VERSION);
  return action as Action;
};
const approveBy =
  (by: string) =>
  (a: Action): Action => ({ ...a, audit: [...a.audit, { at: a.updatedAt, state: 'approved', by, via: 'api' }] });
const freshStore = async () => {
  const s = new FsActionStore({ root: tmp.path, clock });
  await s.init();
  return s;
};

/** Each id lives in exactly one state folder, its content agrees, nothing empty or temporary remains. */
async function expectConsistent(): Promise<Map<string, ActionState>> {
  const files = await filesUnder(path.join(tmp.path, 'actions'));
  expect(files.filter((f) => f.size === 0)).toEqual([]);
  expect(files.filter((f) => f.rel.endsWith('.tmp'))).toEqual([]);
  const where = new Map<string, ActionState>();
  for (const f of files) {
    const [state, name] = f.rel.split('/') as [ActionState, string];
    if (name.includes('--')) continue;
    const id = name.replace(/\.json$/, '');
    expect(where.has(id), `${id} in two states`).toBe(false);
    where.set(id, state);
    expect((await readJson(path.join(tmp.path, 'actions', f.rel))).state).toBe(state);
  }
  return where;
}

describe('FsActionStore recovery on init', () => {
  it('fixes content a crash left stale after the claim: the folder wins, with an audit note', async () => {
    const store = await freshStore();
    await store.create(pendingAction(ID));
    await fs.rename(fileOf('pending'), fileOf('approved'));
    await freshStore();
    const fixed = await readJson(fileOf('approved'));
    expect(fixed.state).toBe('approved');
    expect(fixed.audit.at(-1)).toMatchObject({ state: 'approved', via: 'store', note: 'recovered after crash' });
  });

  it('removes temp files left by an interrupted write and keeps the real file', async () => {
    const store = await freshStore();
    await store.create(pendingAction(ID));
    await fs.writeFile(path.join(tmp.path, 'actions/pending', `.${ID}.abc123.tmp`), '{"half":');
    await fs.writeFile(path.join(tmp.path, 'actions/running', `.${ID}.def456.tmp`), '');
    const again = await freshStore();
    expect(again.lastRepair).toMatchObject({ tempFilesRemoved: 2 });
    expect((await filesUnder(path.join(tmp.path, 'actions'))).map((f) => f.rel)).toEqual([`pending/${ID}.json`]);
    expect((await again.get(ID))?.state).toBe('pending');
  });

  it('keeps the later state when an id was copied into two folders, setting the other copy aside', async () => {
    const store = await freshStore();
    await store.create(pendingAction(ID));
    await store.transition(ID, 'pending', 'cancelled', (a) => ({ ...a, cancelReason: 'drift_resolved_auto' }));
    await fs.copyFile(fileOf('cancelled'), fileOf('pending'));
    const again = await freshStore();
    expect(again.lastRepair).toMatchObject({ duplicatesResolved: 1 });
    expect(await again.list()).toMatchObject([{ id: ID, state: 'cancelled' }]);
    expect(await expectConsistent()).toEqual(new Map([[ID, 'cancelled']]));
    expect((await fs.readdir(path.join(tmp.path, 'actions/pending'))).some((n) => n.startsWith(`${ID}--`))).toBe(true);
  });

  it('keeps a terminal file whose content still says running in its folder and notes that its result was lost', async () => {
    const store = await freshStore();
    await store.create(pendingAction(ID));
    await store.transition(ID, 'pending', 'approved', (a) => a);
    const running = await store.transition(ID, 'approved', 'running', (a) => ({
      ...a,
      command: { sentAt: a.updatedAt, deadline: '2026-11-26T15:02:00.000Z', attempts: 1 },
    }));
    // What a crash between the rename and the rewrite of earlier versions left behind.
    await fs.rename(fileOf('running'), fileOf('completed'));
    await freshStore();
    const fixed = await readJson(fileOf('completed'));
    expect(fixed).toMatchObject({ state: 'completed', command: running.command });
    expect(fixed.result).toBeUndefined();
    expect(fixed.audit.at(-1)?.note).toMatch(/^recovered after crash; the result was lost, the agent's journal is asked for it$/);
  });

  it('removes the old copy a transition left when it crashed after placing the new file', async () => {
    const store = await freshStore();
    await store.create(pendingAction(ID));
    await fs.copyFile(fileOf('pending'), path.join(tmp.path, 'old-pending.json'));
    await store.transition(ID, 'pending', 'approved', approveBy('oskar'));
    await fs.copyFile(path.join(tmp.path, 'old-pending.json'), fileOf('pending'));
    const again = await freshStore();
    expect(again.lastRepair).toMatchObject({ transitionsFinished: 1, duplicatesResolved: 0, contentFixed: 0 });
    expect(await expectConsistent()).toEqual(new Map([[ID, 'approved']]));
    expect((await again.get(ID))?.audit.at(-1)?.by).toBe('oskar');
    expect(await fs.readdir(path.join(tmp.path, 'actions/pending'))).toEqual([]);
  });

  it('also removes the old copy when the transition added no audit entry', async () => {
    const store = await freshStore();
    await store.create(pendingAction(ID));
    await fs.copyFile(fileOf('pending'), path.join(tmp.path, 'old-pending.json'));
    await store.transition(ID, 'pending', 'rejected', (a) => a);
    await fs.copyFile(path.join(tmp.path, 'old-pending.json'), fileOf('pending'));
    const again = await freshStore();
    expect(again.lastRepair).toMatchObject({ transitionsFinished: 1, duplicatesResolved: 0 });
    expect(await expectConsistent()).toEqual(new Map([[ID, 'rejected']]));
    expect(await fs.readdir(path.join(tmp.path, 'actions/pending'))).toEqual([]);
  });

  it('moves a corrupt file to the quarantine at init, keeping its bytes, and starts anyway', async () => {
    await freshStore();
    await fs.writeFile(fileOf('pending'), 'garbage');
    await fs.mkdir(path.join(tmp.path, 'actions/completed/x.json'));
    const again = await freshStore();
    expect(again.lastRepair).toMatchObject({ quarantined: 2 });
    expect(await again.list()).toEqual([]);
    const q = await again.quarantined();
    expect(q.map((x) => x.from).sort()).toEqual(['actions/completed/x.json', `actions/pending/${ID}.json`]);
    expect(await fs.readFile(path.join(tmp.path, q.find((x) => x.from.startsWith('actions/pending'))!.file), 'utf8')).toBe('garbage');
    // A later process still lists them, without the reason (that is in the log of the one that moved them).
    expect((await (await freshStore()).quarantined()).map((x) => [x.from, x.problem]).sort()).toEqual([
      ['actions/completed/x.json', null],
      [`actions/pending/${ID}.json`, null],
    ]);
  });

  it('is a no-op on a healthy store', async () => {
    const store = await freshStore();
    await store.create(pendingAction(ID));
    const before = await filesUnder(tmp.path);
    const again = await freshStore();
    expect(again.lastRepair).toEqual({ tempFilesRemoved: 0, transitionsFinished: 0, contentFixed: 0, duplicatesResolved: 0, quarantined: 0 });
    expect(await filesUnder(tmp.path)).toEqual(before);
  });
});

describe('a crash at every step of a filesystem operation', () => {
  it('leaves the action in exactly one state with matching content after approve', async () => {
    let steps = 0;
    for (let k = 0; ; k += 1) {
      await tmp.cleanup();
      await (await freshStore()).create(pendingAction(ID));
      const crashed = await crashRun(k, (s) => s.transition(ID, 'pending', 'approved', (a) => a));
      await freshStore();
      const where = await expectConsistent();
      expect(['pending', 'approved']).toContain(where.get(ID));
      if (!crashed) break;
      steps += 1;
    }
    expect(steps).toBeGreaterThanOrEqual(6);
  });

  it('leaves either no action or a complete pending one after create, keeping the archived history', async () => {
    for (let k = 0; ; k += 1) {
      await tmp.cleanup();
      const setup = await freshStore();
      await setup.create(pendingAction(ID));
      await setup.transition(ID, 'pending', 'rejected', (a) => a);
      const crashed = await crashRun(k, (s) => s.create(pendingAction(ID, { summary: 'second occurrence' })));
      await freshStore();
      const where = await expectConsistent();
      const files = (await filesUnder(path.join(tmp.path, 'actions'))).map((f) => f.rel);
      // The rejected one is either still live or archived; never lost.
      expect(files.some((f) => f.startsWith(`rejected/${ID}`))).toBe(true);
      if (where.get(ID) === 'pending') expect((await readJson(fileOf('pending'))).summary).toBe('second occurrence');
      if (!crashed) break;
    }
  });

  it('never leaves a folder missing after a crash during init', async () => {
    for (let k = 0; k < 10; k += 1) {
      await tmp.cleanup();
      await crashRun(k, (s) => s.init());
      await freshStore();
      for (const s of ACTION_STATES) await fs.access(path.join(tmp.path, 'actions', s));
    }
  });
});

describe('a crash at every step of every transition', () => {
  const command = { sentAt: '2026-11-26T15:00:00.000Z', deadline: '2026-11-26T15:02:00.000Z', attempts: 1 };
  /** What each transition writes: who decided (audit) and, for an outcome, the agent's result. */
  const updateFor =
    (to: ActionState) =>
    (a: Action): Action => ({
      ...a,
      ...(to === 'running' ? { command } : {}),
      ...(to === 'completed' || to === 'failed'
        ? {
            result: {
              actionId: a.id,
              node: a.node,
              status: to,
              startedAt: command.sentAt,
              finishedAt: '2026-11-26T15:00:01.000Z',
              output: `agent output ${to}`,
            },
          }
        : {}),
      audit: [...a.audit, { at: a.updatedAt, state: to, by: `decided-${to}`, via: 'api' }],
    });
  const pathTo: Record<string, ActionState[]> = { pending: [], approved: ['approved'], running: ['approved', 'running'] };
  const transitions = Object.entries(ACTION_TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => [from as ActionState, to] as const));

  async function setUp(from: ActionState): Promise<Action> {
    await tmp.cleanup();
    const store = await freshStore();
    await store.create(pendingAction(ID));
    let prev: ActionState = 'pending';
    for (const s of pathTo[from]!) {
      await store.transition(ID, prev, s, updateFor(s));
      prev = s;
    }
    return (await store.get(ID))!;
  }

  /** After a crash and a restart: one file, in `from` with the old content or in `to` with all of the new. */
  async function expectOneStep(from: ActionState, to: ActionState, before: Action, after: Action): Promise<ActionState> {
    const store = await freshStore();
    expect(store.lastRepair?.contentFixed).toBe(0);
    const where = await expectConsistent();
    expect((await filesUnder(path.join(tmp.path, 'actions'))).map((f) => f.rel)).toEqual([`${where.get(ID)}/${ID}.json`]);
    const state = where.get(ID)!;
    expect([from, to]).toContain(state);
    expect(await readJson(fileOf(state))).toEqual(state === from ? before : after);
    return state;
  }

  it.each(transitions)('%s → %s: the action is in one folder with the content of that folder, the audit and result included', async (from, to) => {
    const before = await setUp(from);
    const after = await (await freshStore()).transition(ID, from, to, updateFor(to));
    const seen = new Set<ActionState>();
    let steps = 0;
    for (let k = 0; ; k += 1) {
      await setUp(from);
      const crashed = await crashRun(k, (s) => s.transition(ID, from, to, updateFor(to)));
      seen.add(await expectOneStep(from, to, before, after));
      if (!crashed) break;
      steps += 1;
    }
    expect(steps).toBeGreaterThanOrEqual(6);
    expect([...seen].sort()).toEqual([from, to].sort());
  });

  it.each(transitions)(
    '%s → %s: a crash during the repair after a crash is repaired the same way at the next start',
    async (from, to) => {
      const before = await setUp(from);
      const after = await (await freshStore()).transition(ID, from, to, updateFor(to));
      const crashTransition = async (k: number) => {
        await setUp(from);
        return crashRun(k, (s) => s.transition(ID, from, to, updateFor(to)));
      };
      let repairs = 0;
      const tried = new Set<string>();
      for (let k = 0; await crashTransition(k); k += 1) {
        // Only crashes that left work for the repair (a temp file, a claim, two copies) are worth crashing the repair.
        // Crashes that left the same kinds of files are repaired alike: one of each is enough.
        const files = (await filesUnder(path.join(tmp.path, 'actions'))).map((f) => f.rel.replace(/\.[0-9a-f]{12}\.tmp$/, '.<random>.tmp'));
        if (files.length === 1 || tried.has(files.join())) continue;
        tried.add(files.join());
        repairs += 1;
        const actionsDir = path.join(tmp.path, 'actions');
        const crashedFiles = path.join(tmp.path, 'crashed');
        await fs.cp(actionsDir, crashedFiles, { recursive: true });
        const outcome = await expectOneStep(from, to, before, after);
        for (let j = 0; ; j += 1) {
          // The files exactly as the crashed transition left them (copied: replaying the crash costs many fsyncs).
          await fs.rm(actionsDir, { recursive: true });
          await fs.cp(crashedFiles, actionsDir, { recursive: true });
          const repairCrashed = await crashRun(j, (s) => s.init());
          expect(await expectOneStep(from, to, before, after)).toBe(outcome);
          if (!repairCrashed) break;
        }
      }
      expect(repairs).toBeGreaterThanOrEqual(2);
    },
    60_000,
  );
});
/** Runs `op` with a filesystem that dies after `crashAt` calls; returns false once the op completes. */
async function crashRun(crashAt: number, op: (s: FsActionStore) => Promise<unknown>): Promise<boolean> {
  const ops = crashingOps(crashAt);
  return op(new FsActionStore({ root: tmp.path, clock, fs: ops })).then(
    () => false,
    (err: unknown) => {
      expect((err as Error).cause ?? err).toBeInstanceOf(CrashedError);
      return true;
    },
  );
}
