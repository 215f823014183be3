import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, type World } from '@homelab/contracts';
import { FsActionStore } from '@homelab/action-store';
import { createLogger } from '@homelab/logging';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import type { DesiredState } from '../desired';
import { Supervisor } from './supervisor';
import { healthy, unhealthy, world, worldNode } from './test-fixtures';

const log = createLogger('test', { level: 'silent' });
const RESTART = 'container-restart-piha-zigbee2mqtt';
let tmp: TempDir;
let hostsDir: string;
let clock: ManualClock;
let store: FsActionStore;
let current: World;
let published: DesiredState[];
let supervisor: Supervisor;

async function writeHost(node: string, text: string): Promise<void> {
  await fs.mkdir(path.join(hostsDir, node), { recursive: true });
  await fs.writeFile(path.join(hostsDir, node, 'services.yaml'), text);
}
const PIHA_YAML = 'node: piha\nservices:\n  zigbee2mqtt: {}\n  mosquitto: {}\n';
const sick = () => world([worldNode('piha')], [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running'), healthy('piha', 'mosquitto')]);
const fine = () => world([worldNode('piha')], [healthy('piha', 'zigbee2mqtt'), healthy('piha', 'mosquitto')]);

/** Names and modification times of every action file: "no file written" means this stays equal. */
async function snapshot(): Promise<string[]> {
  const dir = path.join(tmp.path, 'actions');
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push(`${path.relative(dir, path.join(e.parentPath, e.name))}@${(await fs.stat(path.join(e.parentPath, e.name))).mtimeMs}`);
  }
  return out.sort();
}

beforeEach(async () => {
  tmp = await makeTempDir('supervisor');
  hostsDir = path.join(tmp.path, 'hosts');
  await writeHost('piha', PIHA_YAML);
  clock = new ManualClock('2026-11-26T15:00:00.000Z');
  store = new FsActionStore({ root: tmp.path, clock });
  await store.init();
  current = sick();
  published = [];
  supervisor = new Supervisor({ hostsDir, store, world: () => current, clock, log, aliases: {}, onDesired: (d) => published.push(d) });
});
afterEach(async () => {
  supervisor.stop();
  await tmp.cleanup();
});

describe('Supervisor', () => {
  it('proposes a pending action for an unhealthy service and publishes the desired state', async () => {
    const report = await supervisor.runOnce();
    expect(report.created).toEqual([RESTART]);
    expect(await store.list('pending')).toMatchObject([{ id: RESTART, risk: 'low' }]);
    expect(Object.keys(supervisor.desired())).toEqual(['piha']);
    expect(published.at(-1)?.piha?.services.zigbee2mqtt?.monitor).toBe(true);
  });

  it('writes no file in a cycle that changes nothing', async () => {
    await supervisor.runOnce();
    const before = await snapshot();
    clock.advance(5000);
    const report = await supervisor.runOnce();
    expect(report).toMatchObject({ created: [], cancelled: [], errors: [] });
    expect(await snapshot()).toEqual(before);
  });

  it('cancels the pending restart when the service turns healthy', async () => {
    await supervisor.runOnce();
    current = fine();
    clock.advance(60_000);
    const report = await supervisor.runOnce();
    expect(report.cancelled).toEqual([{ id: RESTART, reason: 'drift_resolved_auto' }]);
    const a = await store.get(RESTART);
    expect(a).toMatchObject({ state: 'cancelled', cancelReason: 'drift_resolved_auto', updatedAt: '2026-11-26T15:01:00.000Z' });
    expect(a?.audit.at(-1)).toMatchObject({ state: 'cancelled', by: 'supervisor', via: 'supervisor' });
  });

  it('cancels with service_removed_from_desired_state when the service is deleted from services.yaml', async () => {
    await supervisor.runOnce();
    await writeHost('piha', 'node: piha\nservices:\n  mosquitto: {}\n');
    expect((await supervisor.runOnce()).cancelled).toEqual([{ id: RESTART, reason: 'service_removed_from_desired_state' }]);
  });

  it('keeps the last good desired state and its pending actions when services.yaml turns invalid', async () => {
    await supervisor.runOnce();
    await writeHost('piha', 'node: piha\nservices:\n  zigbee2mqtt:\n    containers: ["../x"]\n');
    const report = await supervisor.runOnce();
    expect(report.cancelled).toEqual([]);
    expect(supervisor.problems()).toEqual([
      { file: 'hosts/piha/services.yaml', path: 'services.zigbee2mqtt.containers[0]', message: 'must be a Docker container name' },
    ]);
    expect(Object.keys(supervisor.desired().piha?.services ?? {})).toEqual(['zigbee2mqtt', 'mosquitto']);
    expect((await store.get(RESTART))?.state).toBe('pending');
  });

  it('does not cancel anything when a host file is invalid from the first cycle (a typo is not a removal)', async () => {
    await supervisor.runOnce();
    await writeHost('piha', 'node: [');
    const restarted = new Supervisor({ hostsDir, store, world: () => current, clock, log, aliases: {} });
    const report = await restarted.runOnce();
    expect(report).toMatchObject({ cancelled: [], created: [] });
    expect(report.problems).toHaveLength(1);
    expect((await store.get(RESTART))?.state).toBe('pending');
  });

  it('does not cancel anything when the hosts folder is missing', async () => {
    await supervisor.runOnce();
    const lost = new Supervisor({ hostsDir: path.join(tmp.path, 'nope'), store, world: () => current, clock, log, aliases: {} });
    expect((await lost.runOnce()).cancelled).toEqual([]);
    expect((await store.get(RESTART))?.state).toBe('pending');
  });

  it('skips a cancel that lost the race to an approve', async () => {
    await supervisor.runOnce();
    const stale = await store.list();
    await store.transition(RESTART, 'pending', 'approved', (a) => a);
    const racing = Object.assign(Object.create(store) as FsActionStore, { list: async () => stale });
    current = fine();
    const report = await new Supervisor({ hostsDir, store: racing, world: () => current, clock, log, aliases: {} }).runOnce();
    expect(report).toMatchObject({ cancelled: [], skipped: [RESTART], errors: [] });
    expect((await store.get(RESTART))?.state).toBe('approved');
  });

  it('runs on its interval with the injected clock, runs at once when kicked, and stops', async () => {
    let cycles = 0;
    const timed = new Supervisor({ hostsDir, store, world: () => (cycles++, current), clock, log, aliases: {} });
    timed.start(5000);
    clock.advance(4999);
    await timed.idle();
    expect(cycles).toBe(0);
    clock.advance(1);
    await timed.idle();
    expect(cycles).toBe(1);
    expect((await store.get(RESTART))?.state).toBe('pending');
    timed.kick();
    clock.advance(0);
    await timed.idle();
    expect(cycles).toBe(2);
    clock.advance(5000);
    await timed.idle();
    expect(cycles).toBe(3);
    timed.stop();
    clock.advance(60_000);
    await timed.idle();
    expect(cycles).toBe(3);
  });
});
