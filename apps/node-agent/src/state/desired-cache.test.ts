import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { topics } from '@homelab/contracts';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { DesiredCache } from './desired-cache';
import { InboundCounters } from '../delivery/inbound';
import { silentLog } from '../testing/fakes';

const msg = (node: string, revision: string, services: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ node, revision, ts: '2026-01-01T00:00:00Z', services }));

describe('DesiredCache', () => {
  let tmp: TempDir;
  let counters: InboundCounters;
  const make = () => new DesiredCache({ node: 'piha', stateDir: tmp.path, log: silentLog, counters, maxPayloadBytes: 64 * 1024 });
  const topic = topics.desired('piha');

  beforeEach(async () => {
    tmp = await makeTempDir('hl-desired');
    counters = new InboundCounters();
  });
  afterEach(() => tmp.cleanup());

  it('applies the desired services and lists monitored ones with their containers', async () => {
    const c = make();
    await c.load();
    const r = await c.accept(topic, msg('piha', 'r1', { z2m: { containers: ['z2m', 'z2m-db'] }, mqtt: {}, ha: { monitor: false } }));
    expect(r).toBe('applied');
    expect(c.watched()).toEqual([
      { name: 'mqtt', containers: ['mqtt'] },
      { name: 'z2m', containers: ['z2m', 'z2m-db'] },
    ]);
    expect(c.monitored('ha')).toBeUndefined();
    expect(c.monitored('mqtt')).toMatchObject({ monitor: true });
  });

  it('survives a restart without a hub by caching on disk', async () => {
    await make().accept(topic, msg('piha', 'r1', { z2m: {} }));
    const again = make();
    await again.load();
    expect(again.current()?.revision).toBe('r1');
    expect(again.watched().map((s) => s.name)).toEqual(['z2m']);
  });

  it('refuses a message for another node and keeps the current state', async () => {
    const c = make();
    await c.accept(topic, msg('piha', 'r1', { z2m: {} }));
    expect(await c.accept(topic, msg('chelsty-ha', 'r2', { evil: {} }))).toBe('refused');
    expect(c.current()?.revision).toBe('r1');
    expect(counters.rejected.wrong_node).toBe(1);
  });

  it('refuses and counts invalid payloads without throwing', async () => {
    const c = make();
    expect(await c.accept(topic, Buffer.from('not json'))).toBe('refused');
    expect(await c.accept(topic, msg('piha', 'r1', { '../etc': {} }))).toBe('refused');
    expect(counters.total()).toBe(2);
    expect(c.current()).toBeNull();
  });

  it('treats a resend of the same revision as unchanged and an empty retained payload as nothing', async () => {
    const c = make();
    await c.accept(topic, msg('piha', 'r1', { z2m: {} }));
    expect(await c.accept(topic, msg('piha', 'r1', { z2m: {} }))).toBe('unchanged');
    expect(await c.accept(topic, Buffer.alloc(0))).toBe('ignored');
    expect(c.current()?.revision).toBe('r1');
  });

  it('starts empty when the cache file is unreadable', async () => {
    await fs.writeFile(path.join(tmp.path, 'desired.json'), '{broken');
    const c = make();
    await c.load();
    expect(c.current()).toBeNull();
  });
});
