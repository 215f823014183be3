import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsActionStore } from '@homelab/action-store';
import { ManualClock, type Command, type CommandResult } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { pendingAction } from '@homelab/action-store/testing';
import { CleanupPreviewer } from './cleanup-preview';

const silent = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined, child: () => silent } as unknown as Logger;
const CREATED = '2026-11-26T14:02:00.000Z';

let root: string;
let store: FsActionStore;
let clock: ManualClock;
let sent: Command[];

const cleanupAction = () =>
  pendingAction('disk-cleanup-piha', {
    type: 'disk_cleanup',
    risk: 'guarded',
    service: undefined,
    drift: { type: 'disk_pressure', eventIds: ['piha-9'], firstSeen: CREATED },
  });

const dryRunResult = (over: Partial<CommandResult> = {}): CommandResult => ({
  actionId: 'disk-cleanup-piha',
  node: 'piha',
  status: 'completed',
  startedAt: '2026-11-26T14:03:00.000Z',
  finishedAt: '2026-11-26T14:03:00.100Z',
  output: 'would reclaim 1050 bytes',
  actionCreatedAt: CREATED,
  dryRun: true,
  cleanup: { removed: [{ kind: 'container', id: 'c1', name: 'leftover', bytes: 1050 }], kept: [], reclaimedBytes: 1050 },
  ...over,
});

function previewer() {
  return new CleanupPreviewer({ store, clock, log: silent, publishCommand: async (c) => void sent.push(c), retryMs: 60_000, refreshMs: 600_000 });
}

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'preview-'));
  clock = new ManualClock('2026-11-26T14:03:00.000Z');
  store = new FsActionStore({ root, clock });
  await store.init();
  sent = [];
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('CleanupPreviewer', () => {
  it('asks the agent for a dry run of a pending disk_cleanup, once per retry interval', async () => {
    await store.create(cleanupAction());
    await store.create(pendingAction('container-restart-piha-zigbee2mqtt'));
    const p = previewer();
    expect(await p.runOnce()).toEqual(['disk-cleanup-piha']);
    expect(sent).toEqual([
      expect.objectContaining({ actionId: 'disk-cleanup-piha', node: 'piha', type: 'disk_cleanup', dryRun: true, actionCreatedAt: CREATED }),
    ]);
    expect(await p.runOnce()).toEqual([]);
    clock.advance(60_000);
    expect(await p.runOnce()).toEqual(['disk-cleanup-piha']);
  });

  it('asks at once for a new occurrence of an action id it asked about moments ago', async () => {
    await store.create(cleanupAction());
    const p = previewer();
    expect(await p.runOnce()).toEqual(['disk-cleanup-piha']);
    await store.transition('disk-cleanup-piha', 'pending', 'rejected', (a) => a);
    clock.advance(1000);
    await store.create({ ...cleanupAction(), createdAt: clock.now().toISOString() });
    expect(await p.runOnce()).toEqual(['disk-cleanup-piha']);
  });

  it('records the answer on the pending action and asks again only when it is old', async () => {
    await store.create(cleanupAction());
    const p = previewer();
    await p.runOnce();
    expect(await p.handleResult(dryRunResult())).toBe('recorded');
    const a = await store.get('disk-cleanup-piha');
    expect(a?.state).toBe('pending');
    expect(a?.preview).toMatchObject({ reclaimedBytes: 1050, at: '2026-11-26T14:03:00.100Z', removed: [{ name: 'leftover' }] });
    clock.advance(120_000);
    expect(await p.runOnce()).toEqual([]);
    clock.advance(600_000);
    expect(await p.runOnce()).toEqual(['disk-cleanup-piha']);
  });

  it('leaves an action that was approved meanwhile untouched', async () => {
    await store.create(cleanupAction());
    await store.transition('disk-cleanup-piha', 'pending', 'approved', (a) => a);
    expect(await previewer().handleResult(dryRunResult())).toBe('not_pending');
    expect((await store.get('disk-cleanup-piha'))?.preview).toBeUndefined();
  });

  it('ignores the answer for an earlier occurrence of the same action id', async () => {
    await store.create(cleanupAction());
    expect(await previewer().handleResult(dryRunResult({ actionCreatedAt: '2026-11-20T00:00:00.000Z' }))).toBe('stale_occurrence');
    expect((await store.get('disk-cleanup-piha'))?.preview).toBeUndefined();
  });

  it('records nothing for a failed dry run', async () => {
    await store.create(cleanupAction());
    const failed = dryRunResult({ status: 'failed', cleanup: undefined, error: { code: 'unsupported', message: 'no' } });
    expect(await previewer().handleResult(failed)).toBe('failed');
    expect((await store.get('disk-cleanup-piha'))?.preview).toBeUndefined();
  });
});
