import { describe, expect, it } from 'vitest';
import { emptyWorld, type Action, type World } from '@homelab/contracts';
import { pendingAction } from '@homelab/action-store/testing';
import { SummaryCache } from './summary-cache';

function worldWith(services: number): World {
  const w = emptyWorld();
  for (let i = 0; i < services; i++) {
    w.services[`piha/svc-${i}`] = {
      node: 'piha',
      service: `svc-${i}`,
      status: 'healthy',
      since: '2026-11-27T08:00:00.000Z',
      lastSeen: '2026-11-27T09:59:00.000Z',
      lastEventId: `piha-${i}`,
      lastSeq: i,
      problemEventIds: [],
    };
  }
  return w;
}

const NO_DESIRED = {};
const NONE: never[] = [];

function cacheOver(state: { world: World; actions: Action[]; version: number; now: number }) {
  return new SummaryCache(
    {
      world: () => state.world,
      desired: () => NO_DESIRED,
      problems: () => NONE,
      findings: () => NONE,
      actions: async () => state.actions,
      actionsVersion: () => state.version,
    },
    1000,
    () => state.now,
    1000,
  );
}

describe('SummaryCache', () => {
  it('serves the last summary while a changed world is rebuilt in the background, for at most the allowed lag', async () => {
    const state = { world: worldWith(1), actions: [] as Action[], version: 0, now: 0 };
    const cache = cacheOver(state);
    expect((await cache.summary()).services).toHaveLength(1);
    state.world = worldWith(2);
    state.now = 500;
    expect((await cache.summary()).services).toHaveLength(1); // served at once, rebuilt behind it
    await new Promise((r) => setImmediate(r));
    expect((await cache.summary()).services).toHaveLength(2);
    state.world = worldWith(3);
    state.now = 5000; // past the lag: this request waits for the new world
    expect((await cache.summary()).services).toHaveLength(3);
  });

  it('shows a change of the actions at once, never a summary from before it', async () => {
    const state = { world: worldWith(1), actions: [] as Action[], version: 0, now: 0 };
    const cache = cacheOver(state);
    await cache.summary();
    state.actions = [pendingAction('container-restart-piha-zigbee2mqtt')];
    state.version = 1;
    state.world = worldWith(2);
    expect((await cache.summary()).actions.pending).toHaveLength(1);
  });
});
