import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HomelabEvent } from '@homelab/contracts';
import { FsEventLog } from '@homelab/event-log';
import { freePort, makeTempDir, type TempDir } from '@homelab/testkit';
import { homelab, writeHosts } from '../support/stack';

/**
 * The hub's start on a data root with and without the observer's state
 * (docs/observer-runtime.md): with a checkpoint it folds only what follows it;
 * with the checkpoint, fold state and world files deleted it replays the whole
 * log before it serves, logs when it has caught up, and writes back exactly the
 * files it had. This is what the start benchmark relies on (docs/benchmarks.md,
 * "Hub start on a large data root").
 */
const NODES = ['piha', 'nas', 'media'];
const SERVICES = ['grafana', 'loki', 'traefik'];
const PER_NODE = 1500;
const OBSERVER_FILES = ['state/observer_checkpoint.json', 'state/observer_fold.json', 'world/services.json', 'world/nodes.json'];

function eventOf(node: string, seq: number): HomelabEvent {
  const base = { id: `${node}-${seq}`, node, seq, ts: new Date(Date.parse('2026-03-01T00:00:00.000Z') + seq * 1000).toISOString() };
  const service = SERVICES[seq % SERVICES.length]!;
  const containers = [{ name: `${service}-1`, state: 'running', health: 'healthy' }];
  // Every 50th event of a service is unhealthy until its next one: the world has open and resolved problems.
  if (seq % 150 < 3) return { ...base, type: 'service_unhealthy', service, data: { containers, reason: 'probe_failed', detail: `probe ${seq}` } };
  return { ...base, type: 'service_healthy', service, data: { containers, heartbeat: true } };
}

describe('hub start with and without the observer checkpoint', () => {
  let tmp: TempDir;
  let root: string;
  let hosts: string;

  /** Starts `homelab hub`, waits until it runs, stops it; returns its log. */
  async function startAndStop(name: string): Promise<string> {
    const args = ['hub', '--root', root, '--hosts', hosts, '--http-port', String(await freePort()), '--mqtt-port', String(await freePort())];
    const proc = homelab(args, { name, env: { LOG_LEVEL: 'info' } });
    try {
      await proc.waitForOutput('hub running', 60_000);
      return proc.output();
    } finally {
      await proc.stop(20_000);
    }
  }

  const caughtUp = (log: string) =>
    log
      .split('\n')
      .filter((l) => l.includes('observer caught up with the event log'))
      .map((l) => (JSON.parse(l) as { applied: number }).applied);

  async function observerFiles(): Promise<Record<string, string>> {
    return Object.fromEntries(await Promise.all(OBSERVER_FILES.map(async (f) => [f, await fs.readFile(path.join(root, f), 'utf8')] as const)));
  }

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-start-replay-');
    root = path.join(tmp.path, 'root');
    hosts = path.join(tmp.path, 'hosts');
    await writeHosts(
      hosts,
      Object.fromEntries(NODES.map((n) => [n, `node: ${n}\nservices:\n${SERVICES.map((s) => `  ${s}:\n    containers: [${s}-1]\n`).join('')}`])),
    );
    const log = new FsEventLog({ root });
    await log.open();
    for (const node of NODES) {
      for (let seq = 1; seq <= PER_NODE; seq += 500) {
        const batch = Array.from({ length: 500 }, (_, i) => eventOf(node, seq + i));
        await log.append(node, batch, new Date(`2026-03-01T00:${String(seq % 60).padStart(2, '0')}:00.000Z`));
      }
    }
    await log.close();
  });
  afterAll(() => tmp?.cleanup());

  it('folds only what follows the checkpoint, and replays the whole log once the observer state is deleted, writing the same files back', async () => {
    const first = await startAndStop('start-replay-first');
    expect(first).toContain('replays the whole event log');
    expect(caughtUp(first)).toEqual([NODES.length * PER_NODE]);
    const made = await observerFiles();
    expect(Object.keys(JSON.parse(made['world/services.json']!).services)).toHaveLength(NODES.length * SERVICES.length);

    const again = await startAndStop('start-replay-checkpoint');
    expect(again).not.toContain('replays the whole event log');
    expect(caughtUp(again)).toEqual([0]);

    for (const f of OBSERVER_FILES) await fs.rm(path.join(root, f));
    const replayed = await startAndStop('start-replay-deleted');
    expect(replayed).toContain('replays the whole event log');
    expect(caughtUp(replayed)).toEqual([NODES.length * PER_NODE]);
    expect(await observerFiles()).toEqual(made);
  });
});
