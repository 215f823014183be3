import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, type World } from '@homelab/contracts';
import { FsActionStore } from '@homelab/action-store';
import { createLogger } from '@homelab/logging';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import type { DesiredState } from '../desired';
import { Supervisor } from './supervisor';
import { healthy, inventoried, unhealthy, world, worldNode } from './test-fixtures';

const log = createLogger('test', { level: 'silent' });
const RESTART = 'container-restart-piha-zigbee2mqtt';
let tmp: TempDir;
let hostsDir: string;
let clock: ManualClock;
let store: FsActionStore;
let current: World;
let published: DesiredState[];
let approvedCalls: string[][];
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
  approvedCalls = [];
  supervisor = new Supervisor({
    hostsDir,
    store,
    // Every node has reported on the desired state the cycle loaded, unless a test says otherwise.
    world: () => inventoried(current, supervisor.desired()),
    clock,
    log,
    aliases: {},
    onDesired: (d) => published.push(d),
    onApproved: (ids) => approvedCalls.push(ids),
  });
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
    const racer: Supervisor = new Supervisor({ hostsDir, store: racing, world: () => inventoried(current, racer.desired()), clock, log, aliases: {} });
    const report = await racer.runOnce();
    expect(report).toMatchObject({ cancelled: [], skipped: [RESTART], errors: [] });
    expect((await store.get(RESTART))?.state).toBe('approved');
  });

  it('runs on its interval with the injected clock, runs at once when kicked, and stops', async () => {
    let cycles = 0;
    const timed: Supervisor = new Supervisor({ hostsDir, store, world: () => (cycles++, inventoried(current, timed.desired())), clock, log, aliases: {} });
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
  it('reloads desired state each cycle: a service added to services.yaml is acted on once the agent reported on it', async () => {
    current = world([worldNode('piha')], [healthy('piha', 'zigbee2mqtt'), healthy('piha', 'mosquitto')]);
    expect((await supervisor.runOnce()).created).toEqual([]);
    // The agent's latest complete scan is of the file before grafana was added.
    const before = inventoried(current, supervisor.desired()).nodes.piha!.inventory;
    await writeHost('piha', `${PIHA_YAML}  grafana: {}\n`);
    current = world([worldNode('piha', { inventory: before })], [healthy('piha', 'zigbee2mqtt'), healthy('piha', 'mosquitto')]);
    const waiting = await supervisor.runOnce();
    expect(waiting.created).toEqual([]);
    expect(waiting.findings.map((f) => f.kind)).toEqual(['node_inventory_pending']);
    // Its scan of the new file says grafana is unhealthy.
    current = world([worldNode('piha')], [healthy('piha', 'zigbee2mqtt'), healthy('piha', 'mosquitto'), unhealthy('piha', 'grafana', 'probe_failed')]);
    expect((await supervisor.runOnce()).created).toEqual(['redeploy-piha-grafana']);
  });

  it('approves by policy with audit {by: policy, via: policy}, calls onApproved, then writes nothing more', async () => {
    await fs.writeFile(path.join(hostsDir, 'policy.yaml'), '# fleet-wide\nautoApprove: low\n');
    const report = await supervisor.runOnce();
    expect(report).toMatchObject({ created: [RESTART], approved: [RESTART], errors: [] });
    expect(approvedCalls).toEqual([[RESTART]]);
    const a = await store.get(RESTART);
    expect(a?.state).toBe('approved');
    expect(a?.audit.map((e) => [e.state, e.by, e.via])).toEqual([
      ['pending', 'supervisor', 'supervisor'],
      ['approved', 'policy', 'policy'],
    ]);
    expect(a?.audit[1]?.note).toBe('auto-approved: risk low is within autoApprove low (hosts/policy.yaml)');
    expect(supervisor.policy()).toEqual({ autoApprove: 'low' });
    const before = await snapshot();
    clock.advance(5000);
    expect(await supervisor.runOnce()).toMatchObject({ created: [], approved: [], cancelled: [] });
    expect(await snapshot()).toEqual(before);
    expect(approvedCalls).toHaveLength(1);
  });

  it('leaves an action the operator rejected between plan and approval to the operator', async () => {
    await supervisor.runOnce();
    await fs.writeFile(path.join(hostsDir, 'policy.yaml'), 'autoApprove: low\n');
    const stale = await store.list();
    await store.transition(RESTART, 'pending', 'rejected', (a) => a);
    const racing = Object.assign(Object.create(store) as FsActionStore, { list: async () => stale });
    const racer: Supervisor = new Supervisor({ hostsDir, store: racing, world: () => inventoried(current, racer.desired()), clock, log, aliases: {} });
    const report = await racer.runOnce();
    expect(report).toMatchObject({ approved: [], skipped: [RESTART], errors: [] });
    expect((await store.get(RESTART))?.state).toBe('rejected');
  });

  it('spends the restart budget across archived restarts and escalates to a guarded redeploy that waits', async () => {
    await writeHost('piha', `${PIHA_YAML}policy:\n  autoApprove: low\n  restartBudget: {max: 2, window: 10m, backoff: '0'}\n`);
    const occurrence = (n: number) =>
      world(
        [worldNode('piha')],
        [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running', { since: clock.now().toISOString(), lastEventId: `e${n}` }), healthy('piha', 'mosquitto')],
      );
    const execute = async () => {
      await store.transition(RESTART, 'approved', 'running', (a) => a);
      clock.advance(2000);
      await store.transition(RESTART, 'running', 'completed', (a) => a);
    };
    for (let n = 1; n <= 2; n += 1) {
      current = occurrence(n);
      expect(await supervisor.runOnce()).toMatchObject({ created: [RESTART], approved: [RESTART] });
      await execute();
      clock.advance(30_000);
    }
    // The first restart is archived now (its id was reused), and still counts.
    expect((await fs.readdir(path.join(tmp.path, 'actions/completed'))).filter((f) => f.startsWith(`${RESTART}--`))).toHaveLength(1);
    current = occurrence(3);
    const report = await supervisor.runOnce();
    expect(report).toMatchObject({ created: ['redeploy-piha-zigbee2mqtt'], approved: [] });
    const redeploy = await store.get('redeploy-piha-zigbee2mqtt');
    expect(redeploy).toMatchObject({ state: 'pending', risk: 'guarded', escalation: { from: 'container_restart', restarts: 2, window: '10m' } });
    clock.advance(5000);
    expect(await supervisor.runOnce()).toMatchObject({ created: [], approved: [] });
  });

  it('keeps the last good fleet policy while hosts/policy.yaml is invalid, and reports the problem', async () => {
    await fs.writeFile(path.join(hostsDir, 'policy.yaml'), 'autoApprove: low\n');
    await supervisor.runOnce();
    await fs.writeFile(path.join(hostsDir, 'policy.yaml'), 'autoApprove: everything\nrestartBudget: {window: 2d}\n');
    await supervisor.runOnce();
    expect(supervisor.policy()).toEqual({ autoApprove: 'low' });
    expect(supervisor.problems()).toEqual([
      { file: 'hosts/policy.yaml', path: 'autoApprove', message: 'Invalid option: expected one of "none"|"low"|"guarded"' },
      { file: 'hosts/policy.yaml', path: 'restartBudget.window', message: 'must be between 1s and 24h' },
    ]);
  });

  it('publishes desired state to agents without the hub-only policy and maintenance keys', async () => {
    await writeHost(
      'piha',
      `node: piha\npolicy: {autoApprove: low}\nmaintenance: {until: '2099-01-01T00:00:00Z'}\nservices:\n  zigbee2mqtt:\n    containers: [z2m]\n    policy: {autoApprove: none}\n    maintenance: {until: '2099-01-01T00:00:00Z', reason: x}\n`,
    );
    await supervisor.runOnce();
    expect(published.at(-1)).toEqual({ piha: { node: 'piha', services: { zigbee2mqtt: { monitor: true, containers: ['z2m'] } } } });
    expect(supervisor.desired().piha?.services.zigbee2mqtt?.policy).toEqual({ autoApprove: 'none' });
  });

  it('proposes again for a service whose pending action file is unreadable, and names the quarantined file in a finding', async () => {
    await fs.writeFile(path.join(tmp.path, 'actions/pending', `${RESTART}.json`), '{"id": "container-restart-pi');
    await fs.mkdir(path.join(tmp.path, 'actions/completed/x.json'));
    const report = await supervisor.runOnce();
    expect(report.created).toEqual([RESTART]);
    expect((await store.get(RESTART))?.state).toBe('pending');
    const quarantined = report.findings.filter((f) => f.kind === 'action_file_quarantined');
    expect(quarantined.map((f) => f.file).sort()).toEqual([
      `actions/quarantine/completed/x.json--20261126T150000000Z`,
      `actions/quarantine/pending/${RESTART}.json--20261126T150000000Z`,
    ]);
    expect(quarantined.find((f) => f.file!.includes('pending'))?.message).toMatch(
      new RegExp(`^actions/pending/${RESTART}\\.json could not be read \\(not JSON\\); moved to `),
    );
    expect(supervisor.findings()).toEqual(report.findings);
    // Shown until the operator deletes the quarantined file.
    clock.advance(5000);
    expect((await supervisor.runOnce()).findings.filter((f) => f.kind === 'action_file_quarantined')).toHaveLength(2);
    await fs.rm(path.join(tmp.path, quarantined[0]!.file!), { recursive: true });
    expect((await supervisor.runOnce()).findings.filter((f) => f.kind === 'action_file_quarantined')).toHaveLength(1);
  });

  it('reports the duration of every cycle, a failed one too', async () => {
    const cycles: number[] = [];
    const failing = Object.assign(Object.create(store) as FsActionStore, { list: () => Promise.reject(new Error('EIO')) });
    const timed = new Supervisor({ hostsDir, store: failing, world: () => current, clock, log, aliases: {}, onCycle: (ms) => cycles.push(ms) });
    await expect(timed.runOnce()).rejects.toThrow('EIO');
    const ok = new Supervisor({ hostsDir, store, world: () => current, clock, log, aliases: {}, onCycle: (ms) => cycles.push(ms) });
    await ok.runOnce();
    expect(cycles).toHaveLength(2);
    for (const ms of cycles) expect(ms).toBeGreaterThan(0);
  });

  it('sums up more than 20 quarantined files in one last finding', async () => {
    for (let i = 0; i < 25; i += 1) await fs.writeFile(path.join(tmp.path, 'actions/rejected', `junk-${i}.json`), 'x');
    const report = await supervisor.runOnce();
    const quarantined = report.findings.filter((f) => f.kind === 'action_file_quarantined');
    expect(quarantined).toHaveLength(21);
    expect(quarantined.at(-1)?.message).toBe('5 more unreadable action files are in actions/quarantine/.');
  });
});
