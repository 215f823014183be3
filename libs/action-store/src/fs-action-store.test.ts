import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, type Action } from '@homelab/contracts';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { ACTION_FILE_VERSION } from './codec';
import { FsActionStore } from './fs-action-store';
import { ActionStoreError, InvalidActionError } from './port';
import { filesUnder, pendingAction } from './test-support';

let tmp: TempDir;
let clock: ManualClock;
let store: FsActionStore;

beforeEach(async () => {
  tmp = await makeTempDir('action-store');
  clock = new ManualClock('2026-11-26T15:00:00.000Z');
  store = new FsActionStore({ root: tmp.path, clock });
  await store.init();
});
afterEach(() => tmp.cleanup());

const approve =
  (by: string) =>
  (a: Action): Action => ({
    ...a,
    audit: [...a.audit, { at: clock.now().toISOString(), state: 'approved', by, via: 'api' }],
  });
const codeOf = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ActionStoreError);
  return (err as ActionStoreError).code;
};

describe('FsActionStore', () => {
  it('creates the seven state folders on init', async () => {
    const dirs = (await fs.readdir(path.join(tmp.path, 'actions'))).sort();
    expect(dirs).toEqual(['approved', 'cancelled', 'completed', 'failed', 'pending', 'rejected', 'running']);
  });

  it('writes a new action into pending/ and reads it back by get and list', async () => {
    const a = pendingAction('container-restart-piha-zigbee2mqtt');
    expect(await store.create(a)).toBe('created');
    expect(await store.get(a.id)).toEqual(a);
    expect(await store.list()).toEqual([a]);
    expect(await store.list('pending')).toEqual([a]);
    expect(await store.list('approved')).toEqual([]);
    expect(JSON.parse(await fs.readFile(path.join(tmp.path, 'actions/pending', `${a.id}.json`), 'utf8'))).toEqual({ version: ACTION_FILE_VERSION, ...a });
  });

  it('reads an action file of layout 1 (no version); one of another format version is set aside with its bytes, never rewritten', async () => {
    const old = pendingAction('redeploy-piha-old');
    const newer = pendingAction('redeploy-piha-newer');
    await fs.writeFile(path.join(tmp.path, 'actions/pending', `${old.id}.json`), JSON.stringify(old));
    await fs.writeFile(path.join(tmp.path, 'actions/pending', `${newer.id}.json`), JSON.stringify({ version: ACTION_FILE_VERSION + 1, ...newer }));
    expect(await store.get(old.id)).toEqual(old);
    expect(await store.get(newer.id)).toBeNull();
    const [q] = await store.quarantined();
    expect(q).toMatchObject({ from: `actions/pending/${newer.id}.json`, problem: 'format version 2; this version reads 1' });
    expect(JSON.parse(await fs.readFile(path.join(tmp.path, q!.file), 'utf8'))).toEqual({ version: ACTION_FILE_VERSION + 1, ...newer });
  });

  it('returns null for an id that exists nowhere', async () => {
    expect(await store.get('redeploy-piha-nothing')).toBeNull();
  });

  it('answers exists and writes nothing when the id is already pending, approved or running', async () => {
    const a = pendingAction('redeploy-piha-mosquitto');
    await store.create(a);
    const before = await filesUnder(tmp.path);
    expect(await store.create({ ...a, summary: 'changed' })).toBe('exists');
    await store.transition(a.id, 'pending', 'approved', (x) => x);
    expect(await store.create(a)).toBe('exists');
    expect((await store.get(a.id))?.summary).toBe(a.summary);
    expect((await filesUnder(tmp.path)).length).toBe(before.length);
  });

  it('archives a terminal action with the same id before creating the new one', async () => {
    const a = pendingAction('redeploy-piha-mosquitto');
    await store.create(a);
    clock.advance(60_000);
    await store.transition(a.id, 'pending', 'rejected', (x) => x);
    const again = pendingAction(a.id, { createdAt: clock.now().toISOString(), updatedAt: clock.now().toISOString() });
    expect(await store.create(again)).toBe('created');
    expect((await fs.readdir(path.join(tmp.path, 'actions/rejected'))).sort()).toEqual([`${a.id}--20261126T150100000Z.json`]);
    expect(await store.list()).toEqual([again]);
  });

  it('lists archived actions (the history list() leaves out) by state and end time, oldest first', async () => {
    const id = 'container-restart-piha-zigbee2mqtt';
    for (let i = 0; i < 3; i += 1) {
      const at = clock.now().toISOString();
      await store.create(pendingAction(id, { createdAt: at, updatedAt: at }));
      clock.advance(60_000);
      await store.transition(id, 'pending', 'approved', (x) => x);
      await store.transition(id, 'approved', 'running', (x) => x);
      await store.transition(id, 'running', i === 1 ? 'failed' : 'completed', (x) => x);
      clock.advance(60_000);
    }
    await store.create(pendingAction('redeploy-piha-mosquitto'));
    await store.transition('redeploy-piha-mosquitto', 'pending', 'rejected', (x) => x);
    await store.create(pendingAction('redeploy-piha-mosquitto'));
    // Ended 15:01 (completed) and 15:03 (failed) are archived; the third (15:05) is still current.
    const all = await store.archived({ since: new Date(0), states: ['completed', 'failed'] });
    expect(all.map((a) => [a.state, a.updatedAt])).toEqual([
      ['completed', '2026-11-26T15:01:00.000Z'],
      ['failed', '2026-11-26T15:03:00.000Z'],
    ]);
    expect((await store.archived({ since: new Date('2026-11-26T15:02:00.000Z'), states: ['completed', 'failed'] })).map((a) => a.state)).toEqual(['failed']);
    expect((await store.archived({ since: new Date(0), states: ['rejected'] })).map((a) => a.id)).toEqual(['redeploy-piha-mosquitto']);
    expect((await store.list()).map((a) => a.id).sort()).toEqual([id, 'redeploy-piha-mosquitto']);
    // Served from the cache the second time, same answer; a stray file is ignored.
    await fs.writeFile(path.join(tmp.path, 'actions/completed', 'notes--x.json'), '{}');
    expect(await store.archived({ since: new Date(0), states: ['completed', 'failed'] })).toEqual(all);
  });

  it('moves an action through pending → approved → running → completed, stamping state and updatedAt', async () => {
    const a = pendingAction('container-restart-piha-zigbee2mqtt');
    await store.create(a);
    clock.advance(1000);
    const approved = await store.transition(a.id, 'pending', 'approved', approve('oskar'));
    expect(approved.state).toBe('approved');
    expect(approved.updatedAt).toBe('2026-11-26T15:00:01.000Z');
    expect(approved.audit.at(-1)?.by).toBe('oskar');
    await store.transition(a.id, 'approved', 'running', (x) => x);
    const done = await store.transition(a.id, 'running', 'completed', (x) => ({ ...x, cancelReason: undefined }));
    expect(done.state).toBe('completed');
    expect(await store.get(a.id)).toEqual(done);
    const files = await filesUnder(path.join(tmp.path, 'actions'));
    expect(files.map((f) => f.rel)).toEqual([`completed/${a.id}.json`]);
  });

  it('lets exactly one of two concurrent approves win; the other gets conflict', async () => {
    const a = pendingAction('redeploy-piha-zigbee2mqtt');
    await store.create(a);
    const results = await Promise.allSettled([
      store.transition(a.id, 'pending', 'approved', approve('first')),
      store.transition(a.id, 'pending', 'approved', approve('second')),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(ActionStoreError);
    expect(lost.reason.code).toBe('conflict');
    expect((await store.get(a.id))?.audit.filter((e) => e.state === 'approved')).toHaveLength(1);
  });

  it('lets one of two stores on the same root win a concurrent approve (the claim link is taken once)', async () => {
    const a = pendingAction('redeploy-piha-zigbee2mqtt');
    await store.create(a);
    const other = new FsActionStore({ root: tmp.path, clock });
    const results = await Promise.allSettled([
      store.transition(a.id, 'pending', 'approved', approve('first')),
      other.transition(a.id, 'pending', 'rejected', (x) => x),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await filesUnder(path.join(tmp.path, 'actions'))).map((f) => f.rel)).toHaveLength(1);
  });

  it('refuses a transition the state machine does not allow, touching nothing', async () => {
    const a = pendingAction('redeploy-piha-zigbee2mqtt');
    await store.create(a);
    expect(await codeOf(store.transition(a.id, 'pending', 'running', (x) => x))).toBe('invalid_transition');
    expect(await codeOf(store.transition(a.id, 'pending', 'bogus' as never, (x) => x))).toBe('invalid_transition');
    expect(await codeOf(store.transition(a.id, 'completed', 'pending', (x) => x))).toBe('invalid_transition');
    expect((await store.get(a.id))?.state).toBe('pending');
  });

  it('says not_found for an unknown id and conflict when the action is in another state', async () => {
    expect(await codeOf(store.transition('redeploy-x-y', 'pending', 'approved', (x) => x))).toBe('not_found');
    const a = pendingAction('redeploy-piha-zigbee2mqtt');
    await store.create(a);
    await store.transition(a.id, 'pending', 'rejected', (x) => x);
    expect(await codeOf(store.transition(a.id, 'pending', 'approved', (x) => x))).toBe('conflict');
    expect(await codeOf(store.update(a.id, 'pending', (x) => x))).toBe('conflict');
  });

  it.each(['../x', '%2e%2e', '-f', 'a'.repeat(300), 'a/b', '', 'Piha', 'x\u0000y', '.hidden', 'x.json'])(
    'refuses the id %j before touching the filesystem',
    async (id) => {
      const untouched = new FsActionStore({ root: path.join(tmp.path, 'does-not-exist') });
      expect(await codeOf(untouched.get(id))).toBe('invalid_id');
      expect(await codeOf(untouched.transition(id, 'pending', 'approved', (x) => x))).toBe('invalid_id');
      expect(await codeOf(untouched.update(id, 'pending', (x) => x))).toBe('invalid_id');
      expect(await codeOf(untouched.create(pendingAction(id)))).toBe('invalid_id');
      await expect(fs.access(path.join(tmp.path, 'does-not-exist'))).rejects.toThrow();
    },
  );

  it('refuses content that is not a valid action with a clear error and moves nothing', async () => {
    const a = pendingAction('redeploy-piha-zigbee2mqtt');
    await expect(store.create({ ...a, risk: 'extreme' } as never)).rejects.toThrow(InvalidActionError);
    await expect(store.create({ ...a, state: 'approved' })).rejects.toThrow(/must be pending/);
    await store.create(a);
    const tooLong = (x: Action): Action => ({ ...x, audit: [...x.audit, { at: x.updatedAt, state: 'approved', by: 'a', via: 'api', note: 'n'.repeat(600) }] });
    await expect(store.transition(a.id, 'pending', 'approved', tooLong)).rejects.toThrow(InvalidActionError);
    expect(await store.get(a.id)).toEqual(a);
  });

  it('keeps id and state under its own control whatever the update returns', async () => {
    const a = pendingAction('redeploy-piha-zigbee2mqtt');
    await store.create(a);
    const out = await store.transition(a.id, 'pending', 'approved', (x) => ({ ...x, id: 'other', state: 'completed' }));
    expect(out).toMatchObject({ id: a.id, state: 'approved' });
  });

  it('rewrites content in place with update, leaving the state folder unchanged', async () => {
    const a = pendingAction('redeploy-piha-zigbee2mqtt');
    await store.create(a);
    const out = await store.update(a.id, 'pending', (x) => ({ ...x, summary: 'new words' }));
    expect(out.summary).toBe('new words');
    expect((await store.list('pending'))[0]?.summary).toBe('new words');
  });

  it('moves an unreadable file to the quarantine with its bytes in list(), listing the others', async () => {
    await store.create(pendingAction('redeploy-piha-good'));
    const dir = path.join(tmp.path, 'actions/pending');
    await fs.writeFile(path.join(dir, 'redeploy-piha-bad.json'), '{"id": "redeploy-piha-bad", "state":');
    await fs.writeFile(path.join(dir, 'redeploy-piha-wrong.json'), JSON.stringify(pendingAction('redeploy-piha-other')));
    await fs.writeFile(path.join(dir, 'notes.txt'), 'hello');
    expect((await store.list()).map((a) => a.id)).toEqual(['redeploy-piha-good']);
    expect(store.quarantinedCount).toBe(2);
    expect(await store.get('redeploy-piha-bad')).toBeNull();
    expect((await fs.readdir(dir)).sort()).toEqual(['notes.txt', 'redeploy-piha-good.json']);
    const q = await store.quarantined();
    expect(q.map((x) => [x.from, x.file])).toEqual([
      ['actions/pending/redeploy-piha-bad.json', 'actions/quarantine/pending/redeploy-piha-bad.json--20261126T150000000Z'],
      ['actions/pending/redeploy-piha-wrong.json', 'actions/quarantine/pending/redeploy-piha-wrong.json--20261126T150000000Z'],
    ]);
    expect(q[0]!.problem).toBe('not JSON');
    expect(q[1]!.problem).toMatch(/differs from the file name/);
    expect(await fs.readFile(path.join(tmp.path, q[0]!.file), 'utf8')).toBe('{"id": "redeploy-piha-bad", "state":');
  });

  it('frees the id of an unreadable pending file: create() moves it aside and writes the new action', async () => {
    const a = pendingAction('container-restart-piha-zigbee2mqtt');
    await fs.writeFile(path.join(tmp.path, 'actions/pending', `${a.id}.json`), '\u0000garbage');
    expect(await store.create(a)).toBe('created');
    expect(await store.get(a.id)).toEqual(a);
    expect((await store.quarantined()).map((q) => q.from)).toEqual([`actions/pending/${a.id}.json`]);
  });

  it.each([
    ['a directory', (p: string) => fs.mkdir(p)],
    ['a symlink', (p: string) => fs.symlink('/etc/hostname', p)],
  ])('answers list, get, create and transition when %s is named like an action, and moves it aside', async (_what, make) => {
    await store.create(pendingAction('redeploy-piha-good'));
    await make(path.join(tmp.path, 'actions/pending/x.json'));
    await make(path.join(tmp.path, 'actions/completed/y.json'));
    await make(path.join(tmp.path, 'actions/approved/z.json'));
    await make(path.join(tmp.path, 'actions/running/w.json'));
    expect((await store.list()).map((a) => a.id)).toEqual(['redeploy-piha-good']);
    expect(await store.get('y')).toBeNull();
    expect(await store.create(pendingAction('z'))).toBe('created');
    expect(await codeOf(store.transition('w', 'running', 'completed', (x) => x))).toBe('not_found');
    expect((await store.quarantined()).map((q) => q.from).sort()).toEqual([
      'actions/approved/z.json',
      'actions/completed/y.json',
      'actions/pending/x.json',
      'actions/running/w.json',
    ]);
    expect(store.quarantinedCount).toBe(4);
  });

  it('never leaves an empty or temp file after a series of operations', async () => {
    for (let i = 0; i < 5; i += 1) {
      const a = pendingAction(`redeploy-piha-s${i}`);
      await store.create(a);
      await store.transition(a.id, 'pending', i % 2 ? 'rejected' : 'approved', (x) => x);
      await store.create(a);
    }
    const files = await filesUnder(tmp.path);
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => f.size === 0 || f.rel.endsWith('.tmp'))).toEqual([]);
  });
});
