import { describe, expect, it } from 'vitest';
import type { InventoryScan, WorldNode, WorldService } from '@homelab/contracts';
import { agentRevision } from '../desired/revision';
import { reconcile, type ReconcileInput } from './reconcile';
import { action, healthy, host, minutesAgo, NOW, unhealthy, world, worldNode } from './test-fixtures';

/**
 * "Not reported yet" is not "missing" (docs/supervisor.md, "First contact"):
 * nothing is proposed for a node until its agent's complete scan of the
 * current session and desired state is folded; an action is approved by policy
 * only from evidence of that session; and an ended action holds back whatever
 * began before it ended. Session 2 started at seq 100.
 */
const RESTART = 'container-restart-piha-zigbee2mqtt';
const REDEPLOY_Z2M = 'redeploy-piha-zigbee2mqtt';
const PIHA = { piha: host('piha', { zigbee2mqtt: {}, mosquitto: {} }) };
const WITH_GRAFANA = { piha: host('piha', { zigbee2mqtt: {}, mosquitto: {}, grafana: {} }) };
const REV = agentRevision(PIHA.piha);
const scan = (over: Partial<InventoryScan> = {}): InventoryScan => ({ session: 2, desiredRevision: REV, sessionFromSeq: 100, ...over });
const node = (over: Partial<WorldNode> = {}) => worldNode('piha', { session: 2, lastSeq: 130, inventory: scan(), ...over });
const fresh = { lastSeq: 120 };
const input = (nodeOver: Partial<WorldNode>, services: WorldService[], over: Partial<ReconcileInput> = {}): ReconcileInput => ({
  desired: PIHA,
  world: world([node(nodeOver)], services),
  actions: [],
  now: NOW,
  aliases: {},
  policy: { autoApprove: 'guarded' },
  ...over,
});
const ids = (xs: { id: string }[]) => xs.map((x) => x.id);
const HIGH = { '/': { mount: '/', level: 'high' as const, usedPercent: 97, since: minutesAgo(3) } };

describe('reconcile: first contact', () => {
  it.each<{ name: string; node: Partial<WorldNode>; services: WorldService[]; desired?: ReconcileInput['desired']; message: RegExp }>([
    {
      name: 'a fresh agent online with no complete report yet: every desired service looks missing',
      node: { inventory: undefined, lastSeq: 3 },
      services: [],
      message: /^piha: waiting for its agent's first complete report of session 2; no new actions until it arrives$/,
    },
    {
      name: 'the report is of the previous session (the agent restarted): what the world shows is older evidence',
      node: { inventory: scan({ session: 1 }) },
      services: [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running', { lastSeq: 50 })],
      message: /first complete report of session 2/,
    },
    {
      name: 'the report is of a session whose birth is not folded yet',
      node: { session: 1, inventory: scan({ session: 2 }) },
      services: [healthy('piha', 'zigbee2mqtt', fresh)],
      message: /waiting for the birth of its agent's session 2/,
    },
    {
      name: 'a service appended to services.yaml before the agent reported on it',
      node: {},
      desired: WITH_GRAFANA,
      services: [healthy('piha', 'zigbee2mqtt', fresh), healthy('piha', 'mosquitto', fresh)],
      message: /^piha: its agent has not yet reported on the current services\.yaml/,
    },
    {
      name: 'a node never seen online (no session) that sends events',
      node: { session: null, online: null, inventory: undefined },
      services: [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running', fresh)],
      message: /^piha: waiting for its agent's first complete report; /,
    },
  ])('proposes and approves nothing, with a node_inventory_pending finding: $name', ({ node: n, services, desired, message }) => {
    const plan = reconcile(input({ ...n, disks: HIGH }, services, desired ? { desired } : {}));
    expect(plan.create).toEqual([]);
    expect(plan.approve).toEqual([]);
    expect(plan.findings).toEqual([{ kind: 'node_inventory_pending', node: 'piha', message: expect.stringMatching(message) }]);
  });

  it('still cancels a pending action whose service the (partial) world shows healthy while waiting', () => {
    const plan = reconcile(input({ inventory: undefined }, [healthy('piha', 'zigbee2mqtt', fresh)], { actions: [action(REDEPLOY_Z2M)] }));
    expect(plan.cancel).toEqual([{ id: REDEPLOY_Z2M, reason: 'drift_resolved_auto' }]);
  });

  it('proposes for what the current report says: a service it shows unhealthy, one it says nothing about', () => {
    const plan = reconcile(input({}, [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running', fresh)]));
    expect(ids(plan.create)).toEqual(['container-restart-piha-zigbee2mqtt', 'redeploy-piha-mosquitto']);
    expect(plan.findings).toEqual([]);
  });

  it('acts on the appended service once the agent reported on the new services.yaml', () => {
    const services = [healthy('piha', 'zigbee2mqtt', fresh), healthy('piha', 'mosquitto', fresh)];
    const reportedNew = { inventory: scan({ desiredRevision: agentRevision(WITH_GRAFANA.piha) }) };
    expect(reconcile(input(reportedNew, [...services, healthy('piha', 'grafana', fresh)], { desired: WITH_GRAFANA })).create).toEqual([]);
    expect(ids(reconcile(input(reportedNew, [...services, unhealthy('piha', 'grafana', 'probe_failed', fresh)], { desired: WITH_GRAFANA })).create)).toEqual([
      'redeploy-piha-grafana',
    ]);
  });

  it('a policy or maintenance edit is no new desired state for the agent (agents never get those keys)', () => {
    const edited = { piha: { ...host('piha', { zigbee2mqtt: { policy: { autoApprove: 'none' } }, mosquitto: {} }), policy: { autoApprove: 'low' as const } } };
    expect(agentRevision(edited.piha)).toBe(REV);
    expect(reconcile(input({}, [healthy('piha', 'zigbee2mqtt', fresh), healthy('piha', 'mosquitto', fresh)], { desired: edited })).findings).toEqual([]);
  });
});

describe('reconcile: a service still starting', () => {
  const starting = healthy('piha', 'zigbee2mqtt', { ...fresh, status: 'starting' });

  it('is neither healthy nor missing: nothing proposed, and its pending action is left alone', () => {
    const plan = reconcile(input({}, [starting, healthy('piha', 'mosquitto', fresh)], { actions: [action(REDEPLOY_Z2M)] }));
    expect(plan).toEqual({ create: [], cancel: [], approve: [], findings: [] });
  });
});

describe('reconcile: evidence older than the node session is never approved by policy', () => {
  const stale = unhealthy('piha', 'zigbee2mqtt', 'containers_not_running', { lastSeq: 60 });
  const current = unhealthy('piha', 'zigbee2mqtt', 'containers_not_running', fresh);
  const ok = healthy('piha', 'mosquitto', fresh);

  it.each([
    ['from evidence of an earlier session: created pending, not approved', stale, [RESTART], []],
    ['from evidence of this session: created and approved', current, [RESTART], [RESTART]],
  ])('a new action %s', (_name, svc, created, approved) => {
    const plan = reconcile(input({}, [svc, ok]));
    expect(ids(plan.create)).toEqual(created);
    expect(ids(plan.approve)).toEqual(approved);
  });

  it('a pending action is approved only once its drift rests on evidence of this session', () => {
    const pending = action(RESTART);
    expect(reconcile(input({}, [stale, ok], { actions: [pending] })).approve).toEqual([]);
    expect(ids(reconcile(input({}, [current, ok], { actions: [pending] })).approve)).toEqual([RESTART]);
  });
});

describe('reconcile: an ended action holds back what began before it ended', () => {
  // A redeploy proposed for a service "not reported" (stale drift) ran a minute ago; recreating the container
  // showed it unhealthy while it ran. The new drift is another occurrence, yet the world may not show the
  // redeploy's effect yet.
  const ended = action(REDEPLOY_Z2M, {
    state: 'completed',
    drift: { type: 'missing_service', reason: 'not_reported', eventIds: [], firstSeen: minutesAgo(10) },
    createdAt: minutesAgo(2),
    updatedAt: minutesAgo(1),
  });
  const during = unhealthy('piha', 'zigbee2mqtt', 'container_unhealthy', { ...fresh, since: minutesAgo(1.5) });
  const after = unhealthy('piha', 'zigbee2mqtt', 'container_unhealthy', { ...fresh, since: minutesAgo(0.5) });
  const ok = healthy('piha', 'mosquitto', fresh);

  it.each([
    ['a drift that began while it ran waits for the settle time', during, 5 * 60_000, []],
    ['the same drift once the settle time has passed', during, 30_000, [REDEPLOY_Z2M]],
    ['a drift that began after it ended is proposed at once', after, 5 * 60_000, [REDEPLOY_Z2M]],
  ])('%s', (_name, svc, settleMs, want) => {
    expect(ids(reconcile(input({}, [svc, ok], { actions: [ended], settleMs })).create)).toEqual(want);
  });

  it("compares with the agent's own finishedAt when it answered (the drift's time is the agent's clock too)", () => {
    // The agent finished 2 minutes ago by its clock; the hub recorded it a minute ago.
    const answered = {
      ...ended,
      result: { actionId: REDEPLOY_Z2M, node: 'piha', status: 'completed' as const, startedAt: minutesAgo(2.2), finishedAt: minutesAgo(2), output: '' },
    };
    expect(ids(reconcile(input({}, [during, ok], { actions: [answered] })).create)).toEqual([REDEPLOY_Z2M]);
    const before = unhealthy('piha', 'zigbee2mqtt', 'container_unhealthy', { ...fresh, since: minutesAgo(2.1) });
    expect(ids(reconcile(input({}, [before, ok], { actions: [answered] })).create)).toEqual([]);
  });
});
