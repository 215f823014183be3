import { describe, expect, it } from 'vitest';
import { Action } from '@homelab/contracts';
import { reconcile, type ReconcileInput } from './reconcile';
import { action, healthy, host, NOW, T0, unhealthy, world, worldNode, reported } from './test-fixtures';

const PIHA = { piha: host('piha', { zigbee2mqtt: {}, mosquitto: {} }) };
const base = (over: Partial<ReconcileInput>): ReconcileInput =>
  reported({
    desired: PIHA,
    world: world([worldNode('piha')], [healthy('piha', 'zigbee2mqtt'), healthy('piha', 'mosquitto')]),
    actions: [],
    now: NOW,
    aliases: {},
    ...over,
  });
const ids = (input: ReconcileInput) => reconcile(input).create.map((a) => a.id);

describe('reconcile', () => {
  it('does nothing when the fleet is already converged', () => {
    expect(reconcile(base({}))).toEqual({ create: [], cancel: [], approve: [], findings: [] });
  });

  it.each([
    ['containers_not_running', 'container-restart-piha-zigbee2mqtt', 'container_restart', 'low'],
    ['mqtt_unreachable', 'container-restart-piha-zigbee2mqtt', 'container_restart', 'low'],
    ['container_unhealthy', 'redeploy-piha-zigbee2mqtt', 'redeploy', 'guarded'],
    ['restart_loop', 'redeploy-piha-zigbee2mqtt', 'redeploy', 'guarded'],
    ['probe_failed', 'redeploy-piha-zigbee2mqtt', 'redeploy', 'guarded'],
    ['some_future_reason', 'redeploy-piha-zigbee2mqtt', 'redeploy', 'guarded'],
    [undefined, 'redeploy-piha-zigbee2mqtt', 'redeploy', 'guarded'],
  ])('proposes for an unhealthy service with reason %s: %s (%s, %s)', (reason, id, type, risk) => {
    const w = world([worldNode('piha')], [unhealthy('piha', 'zigbee2mqtt', reason), healthy('piha', 'mosquitto')]);
    const { create } = reconcile(base({ world: w }));
    expect(create).toHaveLength(1);
    expect(create[0]).toMatchObject({ id, type, risk, node: 'piha', service: 'zigbee2mqtt', state: 'pending' });
  });

  it('writes a complete, valid pending action with drift, one-sentence summary and audit', () => {
    const w = world([worldNode('piha')], [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running'), healthy('piha', 'mosquitto')]);
    const [a] = reconcile(base({ world: w })).create;
    expect(Action.parse(a)).toEqual({
      id: 'container-restart-piha-zigbee2mqtt',
      type: 'container_restart',
      risk: 'low',
      node: 'piha',
      service: 'zigbee2mqtt',
      state: 'pending',
      drift: { type: 'unhealthy_service', reason: 'containers_not_running', eventIds: ['piha-7', 'piha-8', 'piha-9'], firstSeen: T0 },
      summary: 'piha/zigbee2mqtt: containers not running since 2026-11-26 14:02 UTC (3 events)',
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
      audit: [{ state: 'pending', by: 'supervisor', via: 'supervisor', at: NOW.toISOString() }],
    });
  });

  it('proposes a guarded redeploy for a desired service the reporting node never mentioned', () => {
    const w = world([worldNode('piha')], [healthy('piha', 'mosquitto')]);
    const [a] = reconcile(base({ world: w })).create;
    expect(a).toMatchObject({
      id: 'redeploy-piha-zigbee2mqtt',
      risk: 'guarded',
      drift: { type: 'missing_service', reason: 'not_reported', eventIds: [], firstSeen: T0 },
    });
    expect(a?.summary).toBe("piha/zigbee2mqtt: in desired state but not reported by the node's agent since 2026-11-26 14:02 UTC");
  });

  it('proposes a guarded disk cleanup when any mount is at high pressure, not at warn', () => {
    const disks = {
      '/': { mount: '/', level: 'high' as const, usedPercent: 93.4, since: T0 },
      '/data': { mount: '/data', level: 'warn' as const, usedPercent: 85, since: T0 },
    };
    const w = world([worldNode('piha', { disks })], [healthy('piha', 'zigbee2mqtt'), healthy('piha', 'mosquitto')]);
    const [a] = reconcile(base({ world: w })).create;
    expect(a).toMatchObject({ id: 'disk-cleanup-piha', type: 'disk_cleanup', risk: 'guarded', drift: { type: 'disk_pressure', firstSeen: T0 } });
    expect(a?.service).toBeUndefined();
    expect(a?.summary).toBe('piha: disk pressure high on / (93% used) since 2026-11-26 14:02 UTC');
    const warnOnly = world([worldNode('piha', { disks: { '/data': disks['/data'] } })], [healthy('piha', 'zigbee2mqtt'), healthy('piha', 'mosquitto')]);
    expect(ids(base({ world: warnOnly }))).toEqual([]);
  });

  it('asks a disk cleanup to remove unused volumes only when the node opted in', () => {
    const disks = { '/': { mount: '/', level: 'high' as const, usedPercent: 95, since: T0 } };
    const w = world([worldNode('piha', { disks })], [healthy('piha', 'zigbee2mqtt'), healthy('piha', 'mosquitto')]);
    expect(reconcile(base({ world: w })).create[0]?.removeVolumes).toBeUndefined();
    const optedIn = { piha: { ...PIHA.piha!, diskCleanup: { volumes: true } } };
    expect(reconcile(base({ world: w, desired: optedIn })).create[0]).toMatchObject({ id: 'disk-cleanup-piha', removeVolumes: true });
  });

  it('skips monitor: false services entirely', () => {
    const desired = { piha: host('piha', { zigbee2mqtt: { monitor: false }, mosquitto: {} }) };
    const w = world([worldNode('piha')], [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running'), healthy('piha', 'mosquitto')]);
    expect(reconcile(base({ desired, world: w }))).toEqual({ create: [], cancel: [], approve: [], findings: [] });
  });

  it('reports a node that never reported once and proposes nothing for it (no bootstrap flood)', () => {
    const desired = { ...PIHA, 'chelsty-infra': host('chelsty-infra', { mosquitto: {}, zigbee2mqtt: {}, 'node-agent': {} }) };
    const plan = reconcile(base({ desired }));
    expect(plan.create).toEqual([]);
    expect(plan.findings).toEqual([expect.objectContaining({ kind: 'node_never_reported', node: 'chelsty-infra' })]);
  });

  it('says nothing about a node whose services are all monitor: false (no agent there)', () => {
    const desired = { ...PIHA, 'chelsty-ha': host('chelsty-ha', { homeassistant: { monitor: false } }) };
    expect(reconcile(base({ desired })).findings).toEqual([]);
  });

  it('node_offline: a drift the operator sees as a finding, and no container action by default', () => {
    const w = world([worldNode('piha', { online: false })], [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running')]);
    const plan = reconcile(base({ world: w }));
    expect(plan.create).toEqual([]);
    expect(plan.findings).toEqual([
      expect.objectContaining({ kind: 'node_offline', node: 'piha', message: expect.stringMatching(/^piha: agent offline since /) }),
    ]);
    // Even with auto-approval on, a pending restart for the offline node is left alone.
    const pending = action('container-restart-piha-zigbee2mqtt');
    expect(reconcile(base({ world: w, actions: [pending], policy: { autoApprove: 'guarded' } }))).toMatchObject({ create: [], cancel: [], approve: [] });
  });

  it('proposes nothing for a node still catching up on its backlog, even for a problem it shows', () => {
    const w = world(
      [worldNode('piha', { lastSeq: 120, backlogUntilSeq: 500 })],
      [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running'), healthy('piha', 'mosquitto')],
    );
    const plan = reconcile(base({ world: w }));
    expect(plan.create).toEqual([]);
    expect(plan.findings.map((f) => f.kind)).toEqual(['node_catching_up']);
  });

  it('proposes again once the node has folded its whole backlog', () => {
    const w = world(
      [worldNode('piha', { lastSeq: 500, backlogUntilSeq: 500 })],
      [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running'), healthy('piha', 'mosquitto')],
    );
    expect(ids(base({ world: w }))).toEqual(['container-restart-piha-zigbee2mqtt']);
  });

  it('still cancels a pending restart whose service turned healthy while the node catches up', () => {
    const w = world([worldNode('piha', { lastSeq: 120, backlogUntilSeq: 500 })], [healthy('piha', 'zigbee2mqtt'), healthy('piha', 'mosquitto')]);
    const plan = reconcile(base({ world: w, actions: [action('container-restart-piha-zigbee2mqtt', { state: 'pending' })] }));
    expect(plan.cancel).toEqual([{ id: 'container-restart-piha-zigbee2mqtt', reason: 'drift_resolved_auto' }]);
  });

  it('reports a node that sends events but has no desired state', () => {
    const w = world([worldNode('piha'), worldNode('stranger')], [healthy('piha', 'zigbee2mqtt'), healthy('piha', 'mosquitto')]);
    expect(reconcile(base({ world: w })).findings).toEqual([expect.objectContaining({ kind: 'unknown_node', node: 'stranger' })]);
  });

  it.each(['pending', 'approved', 'running'] as const)('creates nothing while an action with the same id is %s', (state) => {
    const w = world([worldNode('piha')], [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running'), healthy('piha', 'mosquitto')]);
    expect(ids(base({ world: w, actions: [action('container-restart-piha-zigbee2mqtt', { state })] }))).toEqual([]);
  });

  it('does not recreate an action the operator rejected for the same occurrence, and says so', () => {
    const w = world([worldNode('piha')], [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running'), healthy('piha', 'mosquitto')]);
    const rejected = action('container-restart-piha-zigbee2mqtt', {
      state: 'rejected',
      drift: { type: 'unhealthy_service', eventIds: [], firstSeen: '2026-11-26T15:02:00+01:00' },
    });
    const plan = reconcile(base({ world: w, actions: [rejected] }));
    expect(plan.create).toEqual([]);
    expect(plan.findings).toEqual([expect.objectContaining({ kind: 'occurrence_rejected', actionId: rejected.id })]);
  });

  it('counts events as "50+" once the observer capped the list of event ids', () => {
    const ids50 = Array.from({ length: 50 }, (_, i) => `piha-${i}`);
    const w = world(
      [worldNode('piha')],
      [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running', { problemEventIds: ids50, detail: 'zigbee2mqtt: exited' }), healthy('piha', 'mosquitto')],
    );
    const [a] = reconcile(base({ world: w })).create;
    expect(a?.summary).toBe('piha/zigbee2mqtt: containers not running since 2026-11-26 14:02 UTC (50+ events): zigbee2mqtt: exited');
    expect(a?.drift.eventIds).toHaveLength(50);
  });

  it('proposes again when a new occurrence starts after a rejection', () => {
    const later = '2026-11-26T14:40:00.000Z';
    const w = world([worldNode('piha')], [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running', { since: later }), healthy('piha', 'mosquitto')]);
    const rejected = action('container-restart-piha-zigbee2mqtt', { state: 'rejected' });
    const [a] = reconcile(base({ world: w, actions: [rejected] })).create;
    expect(a).toMatchObject({ id: rejected.id, drift: { firstSeen: later } });
  });

  it('waits for the settle time after a completed action of the same occurrence, then proposes again', () => {
    const w = world([worldNode('piha')], [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running'), healthy('piha', 'mosquitto')]);
    const done = action('container-restart-piha-zigbee2mqtt', { state: 'completed', updatedAt: '2026-11-26T14:58:00.000Z' });
    expect(ids(base({ world: w, actions: [done] }))).toEqual([]);
    expect(ids(base({ world: w, actions: [done], settleMs: 60_000 }))).toEqual([done.id]);
  });

  it('proposes again after an auto-cancelled action when the drift is back', () => {
    const w = world([worldNode('piha')], [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running'), healthy('piha', 'mosquitto')]);
    const cancelled = action('container-restart-piha-zigbee2mqtt', { state: 'cancelled' });
    expect(ids(base({ world: w, actions: [cancelled] }))).toEqual([cancelled.id]);
  });

  it.each([['container-restart-piha-zigbee2mqtt'], ['redeploy-piha-zigbee2mqtt']])(
    'cancels the pending %s with drift_resolved_auto when the service turns healthy',
    (id) => {
      expect(reconcile(base({ actions: [action(id)] })).cancel).toEqual([{ id, reason: 'drift_resolved_auto' }]);
    },
  );

  it.each(['container-restart-piha-zigbee2mqtt', 'redeploy-piha-zigbee2mqtt'])(
    'leaves an operator’s pending %s alone while the service is healthy (asked for, not a drift), but cancels it when the service leaves desired state',
    (id) => {
      const asked = action(id, { drift: { type: 'operator_request', reason: 'manual', eventIds: [], firstSeen: '2026-11-26T14:00:00.000Z' } });
      expect(reconcile(base({ actions: [asked] })).cancel).toEqual([]);
      const desired = { piha: host('piha', { mosquitto: {} }) };
      expect(reconcile(base({ desired, actions: [asked] })).cancel).toEqual([{ id, reason: 'service_removed_from_desired_state' }]);
    },
  );

  it('cancels a pending action with service_removed_from_desired_state when the service leaves desired state', () => {
    const desired = { piha: host('piha', { mosquitto: {} }) };
    const a = action('redeploy-piha-zigbee2mqtt');
    expect(reconcile(base({ desired, actions: [a] })).cancel).toEqual([{ id: a.id, reason: 'service_removed_from_desired_state' }]);
  });

  it('cancels with service_removed_from_desired_state when the service becomes monitor: false or its host is gone', () => {
    const a = action('container-restart-piha-zigbee2mqtt');
    const unmonitored = { piha: host('piha', { zigbee2mqtt: { monitor: false }, mosquitto: {} }) };
    expect(reconcile(base({ desired: unmonitored, actions: [a] })).cancel).toEqual([{ id: a.id, reason: 'service_removed_from_desired_state' }]);
    expect(reconcile(base({ desired: {}, actions: [a] })).cancel).toEqual([{ id: a.id, reason: 'service_removed_from_desired_state' }]);
  });

  it('does not cancel for a host whose services.yaml is unreadable (a typo is not a removal)', () => {
    const a = action('container-restart-piha-zigbee2mqtt');
    expect(reconcile(base({ desired: {}, actions: [a], unreadableNodes: ['piha'] })).cancel).toEqual([]);
    expect(reconcile(base({ desired: {}, actions: [a], unreadableNodes: 'all' })).cancel).toEqual([]);
  });

  it.each(['approved', 'running'] as const)('never auto-cancels an %s action', (state) => {
    expect(reconcile(base({ desired: {}, actions: [action('redeploy-piha-zigbee2mqtt', { state })] })).cancel).toEqual([]);
    expect(reconcile(base({ actions: [action('redeploy-piha-zigbee2mqtt', { state })] })).cancel).toEqual([]);
  });

  it('keeps a pending action while its service is still unhealthy or missing', () => {
    const w = world([worldNode('piha')], [unhealthy('piha', 'zigbee2mqtt', 'containers_not_running')]);
    const plan = reconcile(
      base({ world: w, actions: [action('container-restart-piha-zigbee2mqtt'), action('redeploy-piha-mosquitto', { service: 'mosquitto' })] }),
    );
    expect(plan).toEqual({ create: [], cancel: [], approve: [], findings: [] });
  });

  it('leaves a pending disk cleanup alone (only restarts and redeploys are auto-cancelled)', () => {
    expect(reconcile(base({ actions: [action('disk-cleanup-piha', { service: undefined })] })).cancel).toEqual([]);
  });

  it('matches world entries under an alias to the canonical node', () => {
    const w = world([worldNode('node-1')], [unhealthy('node-1', 'zigbee2mqtt', 'mqtt_unreachable'), healthy('node-1', 'mosquitto')]);
    const plan = reconcile(base({ world: w, aliases: { 'node-1': 'piha' } }));
    expect(plan.create.map((a) => [a.id, a.node])).toEqual([['container-restart-piha-zigbee2mqtt', 'piha']]);
    expect(plan.findings).toEqual([]);
    const healthyAliased = world([worldNode('node-1')], [healthy('node-1', 'zigbee2mqtt'), healthy('node-1', 'mosquitto')]);
    const a = action('container-restart-piha-zigbee2mqtt');
    expect(reconcile(base({ world: healthyAliased, aliases: { 'node-1': 'piha' }, actions: [a] })).cancel).toEqual([
      { id: a.id, reason: 'drift_resolved_auto' },
    ]);
  });

  it('treats a service named constructor like any other name', () => {
    const a = action('redeploy-piha-constructor', { service: 'constructor' });
    expect(reconcile(base({ actions: [a] })).cancel).toEqual([{ id: a.id, reason: 'service_removed_from_desired_state' }]);
    const desired = { piha: host('piha', { constructor: {} }) };
    const w = world([worldNode('piha'), worldNode('constructor')], [unhealthy('piha', 'constructor', 'probe_failed')]);
    const plan = reconcile(base({ desired, world: w }));
    expect(plan.create.map((x) => x.id)).toEqual(['redeploy-piha-constructor']);
    expect(plan.findings).toEqual([expect.objectContaining({ kind: 'unknown_node', node: 'constructor' })]);
  });

  it('gives the same drift the same id and content on every run (deterministic)', () => {
    const w = world([worldNode('piha')], [unhealthy('piha', 'zigbee2mqtt', 'probe_failed'), healthy('piha', 'mosquitto')]);
    expect(reconcile(base({ world: w }))).toEqual(reconcile(base({ world: w })));
  });
});
