import { describe, expect, it } from 'vitest';
import { emptyWorld, type Summary } from '@homelab/contracts';
import { actionsBody, historyBody } from './actions';
import { eventsBody } from './events';
import { nodeBody } from './node';
import { overviewBody } from './overview';

const now = new Date('2026-11-26T15:00:00.000Z');
const operator = { name: 'admin', role: 'operator' as const, via: 'token' as const };
const node = (name: string, desiredServices = 0): Summary['nodes'][number] => ({
  node: name,
  online: true,
  session: 1,
  statusSince: '2026-11-26T14:00:00.000Z',
  lastSeen: '2026-11-26T14:59:00.000Z',
  lastSeq: 3,
  dockerReachable: true,
  disks: {},
  desiredServices,
});
const summary = (over: Partial<Summary> = {}): Summary => ({
  generatedAt: now.toISOString(),
  nodes: [],
  services: [],
  actions: { counts: {}, pending: [], running: [], recent: [] },
  configProblems: [],
  findings: [],
  ...over,
});

describe('empty pages say what will appear there', () => {
  it('fleet without nodes: how a node joins', () => {
    const page = overviewBody(summary(), emptyWorld(), operator, now).text;
    expect(page).toContain('id="empty-fleet"');
    expect(page).toContain('homelab nodes add &lt;name&gt;');
  });

  it('fleet with a node whose agent cannot reach Docker: says so plainly and how to fix it', () => {
    const s = summary({ nodes: [{ ...node('piha'), dockerReachable: false }, node('nas')] });
    const page = overviewBody(s, emptyWorld(), operator, now).text;
    expect(page).toContain('id="next-step"');
    expect(page).toMatch(/<strong>piha<\/strong>: its agent runs but Docker does not answer/);
    expect(page).toContain('sudo systemctl start docker');
    expect(page).not.toMatch(/<strong>nas<\/strong>: its agent runs/);
    expect(overviewBody(summary({ nodes: [node('nas')] }), emptyWorld(), operator, now).text).not.toContain('id="next-step"');
  });

  it('fleet with a node that reports without services.yaml: a link to adopt what runs on it', () => {
    const s = summary({ nodes: [node('piha')], findings: [{ kind: 'unknown_node', node: 'piha', message: 'piha: reports but has no services.yaml' }] });
    const page = overviewBody(s, emptyWorld(), operator, now).text;
    expect(page).toContain('id="next-step"');
    expect(page).toContain('href="/nodes/piha/adopt"');
    expect(page).toContain('homelab adopt --node piha');
    expect(page).not.toContain('id="empty-fleet"');
  });

  it('fleet with described nodes only: no next step', () => {
    const page = overviewBody(summary({ nodes: [node('piha', 2)] }), emptyWorld(), operator, now).text;
    expect(page).not.toContain('id="next-step"');
    expect(page).not.toContain('id="empty-fleet"');
  });

  it('node without services: how it gets some, with the adopt link; with described ones: that they come once reported', () => {
    const bare = nodeBody('piha', summary({ nodes: [node('piha')] }), emptyWorld(), [], [], operator, now)!.text;
    expect(bare).toContain('id="empty-services"');
    expect(bare).toContain('href="/nodes/piha/adopt"');
    const described = nodeBody('piha', summary({ nodes: [node('piha', 2)] }), emptyWorld(), [], [], operator, now)!.text;
    expect(described).toContain('2 services are described in hosts/piha/services.yaml');
  });

  it('actions and history without any: where actions come from and where they end', () => {
    expect(actionsBody(summary(), operator, now).text).toMatch(/id="empty-actions">Nothing waits for a decision\. Actions appear here when/);
    expect(historyBody([], now, {}).text).toContain('id="empty-history"');
  });

  it('events without any: what agents publish; with a filter: that nothing matches', () => {
    expect(eventsBody([], { limit: 100 }, [], []).text).toContain('No events yet. Agents publish');
    expect(eventsBody([], { limit: 100, node: 'piha' }, ['piha'], []).text).toContain('No events match this filter.');
  });
});
