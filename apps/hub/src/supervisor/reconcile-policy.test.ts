import { describe, expect, it } from 'vitest';
import { Action, HostServicesFile, type PolicySpec } from '@homelab/contracts';
import { reconcile, type ReconcileInput } from './reconcile';
import { action, healthy, host, minutesAgo, NOW, restartEnded, T0, unhealthy, world, worldNode, reported } from './test-fixtures';

/**
 * The policy (docs/supervisor.md, "Policy" and "Maintenance"): auto-approval per
 * risk, the restart budget with backoff and escalation, maintenance silences,
 * and the rejection cool-down.
 * The occurrence under test started a minute ago (SINCE); earlier restarts
 * belong to earlier occurrences (firstSeen T0) unless a test says otherwise.
 */
const RESTART = 'container-restart-piha-zigbee2mqtt';
const REDEPLOY = 'redeploy-piha-zigbee2mqtt';
const SINCE = minutesAgo(1);
const PIHA = { piha: host('piha', { zigbee2mqtt: {}, mosquitto: {} }) };
const down = (reason = 'containers_not_running', over = {}) =>
  world([worldNode('piha')], [unhealthy('piha', 'zigbee2mqtt', reason, { since: SINCE, ...over }), healthy('piha', 'mosquitto')]);
const base = (over: Partial<ReconcileInput>): ReconcileInput =>
  reported({
    desired: PIHA,
    world: down(),
    actions: [],
    now: NOW,
    aliases: {},
    ...over,
  });
const withPolicy = (hostPolicy: PolicySpec | undefined, servicePolicy?: PolicySpec): Record<string, HostServicesFile> => ({
  piha: { ...host('piha', { zigbee2mqtt: servicePolicy ? { policy: servicePolicy } : {}, mosquitto: {} }), ...(hostPolicy ? { policy: hostPolicy } : {}) },
});
const ids = (xs: { id: string }[]) => xs.map((x) => x.id);

describe('policy: auto-approve per risk level', () => {
  it('approves nothing by default: a low-risk restart stays pending', () => {
    const plan = reconcile(base({}));
    expect(ids(plan.create)).toEqual([RESTART]);
    expect(plan.approve).toEqual([]);
  });

  it('approves a new low-risk restart when hosts/policy.yaml says autoApprove: low, naming the source', () => {
    const plan = reconcile(base({ policy: { autoApprove: 'low' } }));
    expect(ids(plan.create)).toEqual([RESTART]);
    expect(plan.approve).toEqual([{ id: RESTART, note: 'auto-approved: risk low is within autoApprove low (hosts/policy.yaml)' }]);
  });

  it('never approves a guarded action under autoApprove: low; approves it under guarded', () => {
    const w = down('container_unhealthy');
    expect(reconcile(base({ world: w, policy: { autoApprove: 'low' } }))).toMatchObject({ create: [{ id: REDEPLOY, risk: 'guarded' }], approve: [] });
    expect(reconcile(base({ world: w, policy: { autoApprove: 'guarded' } })).approve.map((a) => a.id)).toEqual([REDEPLOY]);
  });

  it('takes the service override over the host policy, and the host policy over the fleet policy', () => {
    const fleetLow = { autoApprove: 'low' } as const;
    expect(reconcile(base({ policy: fleetLow, desired: withPolicy({ autoApprove: 'none' }) })).approve).toEqual([]);
    expect(reconcile(base({ policy: fleetLow, desired: withPolicy({ autoApprove: 'none' }, { autoApprove: 'low' }) })).approve).toEqual([
      { id: RESTART, note: 'auto-approved: risk low is within autoApprove low (hosts/piha/services.yaml services.zigbee2mqtt.policy)' },
    ]);
    expect(reconcile(base({ desired: withPolicy({ autoApprove: 'low' }) })).approve[0]?.note).toMatch(/\(hosts\/piha\/services\.yaml policy\)$/);
    expect(reconcile(base({ policy: fleetLow, desired: withPolicy(undefined, { autoApprove: 'none' }) })).approve).toEqual([]);
  });

  it('approves an existing pending action once the policy allows it (level-triggered), creating nothing', () => {
    const pending = action(RESTART, { drift: { type: 'unhealthy_service', reason: 'containers_not_running', eventIds: [], firstSeen: SINCE } });
    expect(reconcile(base({ actions: [pending], policy: { autoApprove: 'low' } }))).toMatchObject({ create: [], approve: [{ id: RESTART }] });
    expect(reconcile(base({ actions: [pending] })).approve).toEqual([]);
  });

  it('does not approve a pending action whose drift is gone (it is cancelled instead)', () => {
    const fine = world([worldNode('piha')], [healthy('piha', 'zigbee2mqtt'), healthy('piha', 'mosquitto')]);
    const plan = reconcile(base({ world: fine, actions: [action(RESTART)], policy: { autoApprove: 'guarded' } }));
    expect(plan).toMatchObject({ approve: [], cancel: [{ id: RESTART, reason: 'drift_resolved_auto' }] });
  });

  it('applies the host policy to disk cleanups (node-wide actions)', () => {
    const disks = { '/': { mount: '/', level: 'high' as const, usedPercent: 95, since: T0 } };
    const w = world([worldNode('piha', { disks })], [healthy('piha', 'zigbee2mqtt'), healthy('piha', 'mosquitto')]);
    expect(reconcile(base({ world: w, desired: withPolicy({ autoApprove: 'guarded' }) })).approve.map((a) => a.id)).toEqual(['disk-cleanup-piha']);
    expect(reconcile(base({ world: w, desired: withPolicy({ autoApprove: 'low' }) })).approve).toEqual([]);
  });
});

describe('policy: restart budget, backoff and escalation', () => {
  it('proposes the first restart at once and counts nothing outside the window', () => {
    expect(ids(reconcile(base({})).create)).toEqual([RESTART]);
    const old = [restartEnded(minutesAgo(45)), restartEnded(minutesAgo(40)), restartEnded(minutesAgo(31))];
    expect(ids(reconcile(base({ history: old })).create)).toEqual([RESTART]);
  });

  it('waits a backoff after a restart (1m), doubled after each restart in the window (2m), with a restart_backoff finding', () => {
    const one = reconcile(base({ actions: [restartEnded(minutesAgo(0.5))] }));
    expect(one.create).toEqual([]);
    expect(one.findings).toEqual([
      {
        kind: 'restart_backoff',
        node: 'piha',
        service: 'zigbee2mqtt',
        actionId: RESTART,
        until: '2026-11-26T15:00:30.000Z',
        message:
          'piha/zigbee2mqtt: containers not running since 2026-11-26 14:59 UTC (3 events); restart 2 of 3 in 30m waits for its backoff until 2026-11-26 15:00 UTC',
      },
    ]);
    expect(ids(reconcile(base({ actions: [restartEnded(minutesAgo(1.5))] })).create)).toEqual([RESTART]);
    const two = [restartEnded(minutesAgo(10)), restartEnded(minutesAgo(1.5))];
    expect(reconcile(base({ history: two.slice(0, 1), actions: two.slice(1) }))).toMatchObject({
      create: [],
      findings: [{ kind: 'restart_backoff', until: '2026-11-26T15:00:30.000Z' }],
    });
    const twoLater = [restartEnded(minutesAgo(10)), restartEnded(minutesAgo(2.5))];
    expect(ids(reconcile(base({ history: twoLater.slice(0, 1), actions: twoLater.slice(1) })).create)).toEqual([RESTART]);
  });

  it('escalates to a guarded redeploy once the budget is spent (3 in 30m), saying why', () => {
    const history = [restartEnded(minutesAgo(20)), restartEnded(minutesAgo(12), { state: 'failed' })];
    const current = restartEnded(minutesAgo(6));
    const plan = reconcile(base({ history, actions: [current] }));
    expect(plan.findings).toEqual([]);
    expect(plan.create).toHaveLength(1);
    const a = Action.parse(plan.create[0]);
    expect(a).toMatchObject({
      id: REDEPLOY,
      type: 'redeploy',
      risk: 'guarded',
      state: 'pending',
      drift: { type: 'unhealthy_service', reason: 'containers_not_running', firstSeen: SINCE },
      escalation: { from: 'container_restart', restarts: 3, window: '30m', lastRestartAt: minutesAgo(6) },
    });
    expect(a.summary).toBe(
      'piha/zigbee2mqtt: containers not running since 2026-11-26 14:59 UTC (3 events); restart budget spent (3 restarts in 30m), so a redeploy is proposed',
    );
  });

  it('never auto-approves the escalated redeploy under autoApprove: low', () => {
    const history = [restartEnded(minutesAgo(20)), restartEnded(minutesAgo(12)), restartEnded(minutesAgo(6))];
    expect(reconcile(base({ history, policy: { autoApprove: 'low' } }))).toMatchObject({ create: [{ id: REDEPLOY }], approve: [] });
    expect(reconcile(base({ history, policy: { autoApprove: 'guarded' } })).approve.map((a) => a.id)).toEqual([REDEPLOY]);
  });

  it('uses the budget of the policy: 2 in 10m with zero backoff', () => {
    const desired = withPolicy(undefined, { restartBudget: { max: 2, window: '10m', backoff: '0' } });
    // The last restart ended just before this occurrence began (SINCE, a minute ago): no settle wait, no backoff.
    expect(ids(reconcile(base({ desired, actions: [restartEnded(minutesAgo(1.5))] })).create)).toEqual([RESTART]);
    const two = [restartEnded(minutesAgo(5)), restartEnded(minutesAgo(1.5))];
    expect(ids(reconcile(base({ desired, history: two })).create)).toEqual([REDEPLOY]);
    const rolled = [restartEnded(minutesAgo(11)), restartEnded(minutesAgo(1.5))];
    expect(ids(reconcile(base({ desired, history: rolled })).create)).toEqual([RESTART]);
  });

  it('escalates at once when restarts are disabled (restartBudget.max: 0)', () => {
    const desired = withPolicy({ restartBudget: { max: 0 } });
    const [a] = reconcile(base({ desired })).create;
    expect(a).toMatchObject({ id: REDEPLOY, escalation: { restarts: 0, window: '30m' } });
    expect(a?.escalation?.lastRestartAt).toBeUndefined();
    expect(a?.summary).toMatch(/restarts are disabled by policy \(restartBudget\.max 0\), so a redeploy is proposed$/);
  });

  it('counts a restart found in both lists once, and ignores rejected or cancelled restarts', () => {
    const r = restartEnded(minutesAgo(8));
    const notRun = [restartEnded(minutesAgo(7), { state: 'rejected' }), restartEnded(minutesAgo(6), { state: 'cancelled' })];
    const desired = withPolicy({ restartBudget: { max: 2 } });
    expect(ids(reconcile(base({ desired, history: [r, ...notRun], actions: [r] })).create)).toEqual([RESTART]);
  });

  it('holds back a new restart while an escalated redeploy waits for approval (one live action per service)', () => {
    const rolled = [restartEnded(minutesAgo(40))];
    const waiting = action(REDEPLOY, { escalation: { from: 'container_restart', restarts: 3, window: '30m' } });
    expect(reconcile(base({ history: rolled, actions: [waiting] }))).toMatchObject({ create: [], cancel: [], approve: [] });
  });

  it('a crash loop counts as unhealthy: restart_loop proposes a guarded redeploy, never a restart, whatever the budget', () => {
    const plan = reconcile(base({ world: down('restart_loop', { detail: 'zigbee2mqtt: restarting (7 restarts)' }), policy: { autoApprove: 'low' } }));
    expect(plan.create).toMatchObject([{ id: REDEPLOY, risk: 'guarded', drift: { reason: 'restart_loop' } }]);
    expect(plan.create[0]?.escalation).toBeUndefined();
    expect(plan.create[0]?.summary).toBe('piha/zigbee2mqtt: restart loop since 2026-11-26 14:59 UTC (3 events): zigbee2mqtt: restarting (7 restarts)');
    expect(plan.approve).toEqual([]);
  });

  it('lets a restart of this very occurrence settle before escalating (the world may not show its effect yet)', () => {
    const sameOccurrence = { drift: { type: 'unhealthy_service' as const, reason: 'containers_not_running', eventIds: [], firstSeen: SINCE } };
    const history = [restartEnded(minutesAgo(20)), restartEnded(minutesAgo(12))];
    const justNow = restartEnded(minutesAgo(0.2), sameOccurrence);
    expect(reconcile(base({ history, actions: [justNow] })).create).toEqual([]);
    expect(ids(reconcile(base({ history, actions: [justNow], settleMs: 5000 })).create)).toEqual([REDEPLOY]);
  });
});

describe('policy: maintenance silences', () => {
  const until = '2026-11-26T18:00:00.000Z';
  const svcMaint = (m = { until, reason: 'firmware update' }) => ({ piha: host('piha', { zigbee2mqtt: { maintenance: m }, mosquitto: {} }) });
  const nodeMaint = { piha: { ...host('piha', { zigbee2mqtt: {}, mosquitto: {} }), maintenance: { until, reason: 'moving the Pi' } } };

  it('a service in maintenance gets no action, only a silenced finding with the drift and the window', () => {
    const plan = reconcile(base({ desired: svcMaint(), policy: { autoApprove: 'low' } }));
    expect(plan).toMatchObject({ create: [], cancel: [], approve: [] });
    expect(plan.findings).toEqual([
      {
        kind: 'silenced',
        node: 'piha',
        service: 'zigbee2mqtt',
        until,
        message:
          'piha/zigbee2mqtt: containers not running since 2026-11-26 14:59 UTC (3 events); silenced: piha/zigbee2mqtt is in maintenance until 2026-11-26 18:00 UTC (firmware update)',
      },
    ]);
  });

  it('leaves the pending actions of a silenced service alone: not cancelled when healthy, not approved', () => {
    const fine = world([worldNode('piha')], [healthy('piha', 'zigbee2mqtt'), healthy('piha', 'mosquitto')]);
    const pending = action(RESTART);
    expect(reconcile(base({ desired: svcMaint(), world: fine, actions: [pending] }))).toMatchObject({ cancel: [], approve: [], findings: [] });
    const stillDown = { drift: { type: 'unhealthy_service' as const, eventIds: [], firstSeen: SINCE } };
    expect(reconcile(base({ desired: svcMaint(), actions: [action(RESTART, stillDown)], policy: { autoApprove: 'low' } })).approve).toEqual([]);
    // The window over: the resolved action is cancelled as usual.
    expect(reconcile(base({ desired: svcMaint(), world: fine, actions: [pending], now: new Date('2026-11-26T18:00:00.000Z') })).cancel).toEqual([
      { id: RESTART, reason: 'drift_resolved_auto' },
    ]);
  });

  it('still cancels a pending action whose service left desired state during maintenance', () => {
    const desired = { piha: { ...host('piha', { mosquitto: {} }), maintenance: { until } } };
    expect(reconcile(base({ desired, actions: [action(RESTART)] })).cancel).toEqual([{ id: RESTART, reason: 'service_removed_from_desired_state' }]);
  });

  it('node maintenance silences every service, disk pressure, and the node being offline', () => {
    const disks = { '/': { mount: '/', level: 'high' as const, usedPercent: 95, since: T0 } };
    const w = world(
      [worldNode('piha', { disks })],
      [unhealthy('piha', 'zigbee2mqtt', 'container_unhealthy'), unhealthy('piha', 'mosquitto', 'containers_not_running')],
    );
    const plan = reconcile(base({ desired: nodeMaint, world: w }));
    expect(plan.create).toEqual([]);
    expect(plan.findings.map((f) => [f.kind, f.service ?? null])).toEqual([
      ['silenced', 'mosquitto'],
      ['silenced', 'zigbee2mqtt'],
      ['silenced', null],
    ]);
    expect(plan.findings[2]?.message).toMatch(
      /^piha: disk pressure high on .*; silenced: piha is in maintenance until 2026-11-26 18:00 UTC \(moving the Pi\)$/,
    );
    const offline = reconcile(base({ desired: nodeMaint, world: world([worldNode('piha', { online: false })], []) }));
    expect(offline.findings).toEqual([
      expect.objectContaining({
        kind: 'silenced',
        node: 'piha',
        message: expect.stringMatching(/^piha: agent offline since .*; silenced: piha is in maintenance/),
      }),
    ]);
  });

  it('does not silence before `from` or after `until`', () => {
    expect(ids(reconcile(base({ desired: svcMaint({ until: '2026-11-26T14:00:00.000Z', reason: 'over' }) })).create)).toEqual([RESTART]);
    const later = { piha: host('piha', { zigbee2mqtt: { maintenance: { from: '2026-11-26T16:00:00.000Z', until } }, mosquitto: {} }) };
    expect(ids(reconcile(base({ desired: later })).create)).toEqual([RESTART]);
  });
});

describe('policy: a rejected action comes back only after recovery or the cool-down', () => {
  const rejectedAt = (at: string) =>
    action(RESTART, {
      state: 'rejected',
      updatedAt: at,
      drift: { type: 'unhealthy_service', reason: 'containers_not_running', eventIds: [], firstSeen: SINCE },
    });

  it('is not recreated for the same occurrence within rejectCooldown (default 6h), and the finding says until when', () => {
    const plan = reconcile(base({ actions: [rejectedAt(minutesAgo(30))] }));
    expect(plan.create).toEqual([]);
    expect(plan.findings).toEqual([
      expect.objectContaining({
        kind: 'occurrence_rejected',
        actionId: RESTART,
        until: '2026-11-26T20:30:00.000Z',
        message: expect.stringMatching(
          /the operator rejected container-restart-piha-zigbee2mqtt for this occurrence; proposed again after 2026-11-26 20:30 UTC \(rejectCooldown 6h\) unless it recovers first$/,
        ),
      }),
    ]);
  });

  it('is proposed again for the same occurrence once the cool-down has passed', () => {
    const plan = reconcile(base({ actions: [rejectedAt(minutesAgo(6 * 60))] }));
    expect(plan.create).toMatchObject([{ id: RESTART, state: 'pending', drift: { firstSeen: SINCE } }]);
    expect(plan.findings).toEqual([]);
  });

  it('uses the cool-down of the policy', () => {
    const desired = withPolicy(undefined, { rejectCooldown: '15m' });
    expect(ids(reconcile(base({ desired, actions: [rejectedAt(minutesAgo(14))] })).create)).toEqual([]);
    expect(ids(reconcile(base({ desired, actions: [rejectedAt(minutesAgo(15))] })).create)).toEqual([RESTART]);
  });
});
