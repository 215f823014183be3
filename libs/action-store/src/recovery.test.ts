import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION_STATES, ManualClock, type Action, type ActionState } from '@homelab/contracts';
import { makeTempDir, type TempDir } from '@homelab/testkit';
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
const readJson = async (file: string) => JSON.parse(await fs.readFile(file, 'utf8')) as Action;
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

  it('leaves a corrupt file in place and starts anyway', async () => {
    await freshStore();
    await fs.writeFile(fileOf('pending'), 'garbage');
    const again = await freshStore();
    expect(again.lastRepair).toMatchObject({ corrupt: 1 });
    expect(await again.list()).toEqual([]);
    expect(await fs.readFile(fileOf('pending'), 'utf8')).toBe('garbage');
  });

  it('is a no-op on a healthy store', async () => {
    const store = await freshStore();
    await store.create(pendingAction(ID));
    const before = await filesUnder(tmp.path);
    const again = await freshStore();
    expect(again.lastRepair).toEqual({ tempFilesRemoved: 0, contentFixed: 0, duplicatesResolved: 0, corrupt: 0 });
    expect(await filesUnder(tmp.path)).toEqual(before);
  });
});

describe('a crash at every step of a filesystem operation', () => {
  /** Runs `op` with a filesystem that dies after `crashAt` calls; returns false once the op completes. */
  async function crashRun(crashAt: number, op: (s: FsActionStore) => Promise<unknown>): Promise<boolean> {
    const ops = crashingOps(crashAt);
    const crashed = await op(new FsActionStore({ root: tmp.path, clock, fs: ops })).then(
      () => false,
      (err: unknown) => {
        expect((err as Error).cause ?? err).toBeInstanceOf(CrashedError);
        return true;
      },
    );
    return crashed;
  }

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
