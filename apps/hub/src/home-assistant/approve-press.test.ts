import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsActionStore } from '@homelab/action-store';
import { ManualClock } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { action, NOW, T0 } from '../supervisor/test-fixtures';
import { handleApprovePress, type ApprovePressDeps } from './approve-press';

const log = createLogger('test', { level: 'silent' });
const ID = 'redeploy-piha-zigbee2mqtt';
const press = (over: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({ actionId: ID, createdAt: T0, ...over }));

describe('an Approve press from Home Assistant', () => {
  let tmp: TempDir;
  let store: FsActionStore;
  let decisions: number;
  let deps: ApprovePressDeps;

  beforeEach(async () => {
    tmp = await makeTempDir('ha-approve');
    store = new FsActionStore({ root: tmp.path, log });
    await store.init();
    await store.create(action(ID));
    decisions = 0;
    deps = { enabled: true, store, onDecision: () => decisions++, clock: new ManualClock(NOW), log, maxPayloadBytes: 4096 };
  });
  afterEach(() => tmp.cleanup());

  it('approves the pending action as the UI does, audited as home-assistant, and wakes the executor', async () => {
    expect(await handleApprovePress(press(), deps)).toBe('approved');
    const approved = await store.get(ID);
    expect(approved?.state).toBe('approved');
    expect(approved?.audit.at(-1)).toEqual({ at: NOW.toISOString(), state: 'approved', by: 'home-assistant', via: 'home-assistant' });
    expect(decisions).toBe(1);
  });

  it('approves nothing while Approve buttons are off', async () => {
    expect(await handleApprovePress(press(), { ...deps, enabled: false })).toBe('disabled');
    expect((await store.get(ID))?.state).toBe('pending');
    expect(decisions).toBe(0);
  });

  it('approves nothing from a button made for an earlier action with the same id', async () => {
    expect(await handleApprovePress(press({ createdAt: '2026-11-01T00:00:00.000Z' }), deps)).toBe('refused');
    expect((await store.get(ID))?.state).toBe('pending');
  });

  it.each([
    ['not JSON', Buffer.from('PRESS')],
    ['an unknown field', press({ extra: 1 })],
    ['an id with a slash', press({ actionId: '../x' })],
  ])('ignores a press that is %s', async (_what, payload) => {
    expect(await handleApprovePress(payload, deps)).toBe('invalid');
    expect((await store.get(ID))?.state).toBe('pending');
  });

  it('refuses a second press once the action is approved (no second audit entry)', async () => {
    await handleApprovePress(press(), deps);
    expect(await handleApprovePress(press(), deps)).toBe('refused');
    expect((await store.get(ID))?.audit.filter((e) => e.state === 'approved')).toHaveLength(1);
  });
});
