/**
 * Helpers of the fault tests (docs/reliability.md, "Fault tests"): the hub on fixed ports so it can
 * be killed and restarted where agents expect it, load agents as child
 * processes, and exact accounting of what reached the event log.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { freePort, spawnLogged, waitFor, type LoggedProcess } from '@homelab/testkit';
import { loadIndexOf, readLedger, type LedgerEntry } from './load-agent';
import { agentMqttEnv } from './mqtt-identities';
import { ARTIFACTS, REPO_ROOT, homelab, readEvents } from './stack';

const LOAD_AGENT = path.join(REPO_ROOT, 'test/support/load-agent.ts');

export interface HubPorts {
  http: number;
  /** Only for the embedded broker. */
  mqtt?: number;
}

export interface FaultHub {
  proc: LoggedProcess;
  httpUrl: string;
  mqttUrl: string;
  ports: HubPorts;
}

/**
 * Starts `homelab hub` on the given (or fresh) ports: restarting with the same
 * ports puts the embedded broker back where the agents reconnect.
 */
export async function startFaultHub(opts: {
  root: string;
  hostsDir: string;
  name: string;
  mqttUrl?: string;
  ports?: HubPorts;
  env?: NodeJS.ProcessEnv;
}): Promise<FaultHub> {
  const ports: HubPorts = opts.ports ?? { http: await freePort(), ...(opts.mqttUrl ? {} : { mqtt: await freePort() }) };
  const args = ['hub', '--root', opts.root, '--hosts', opts.hostsDir, '--http-port', String(ports.http)];
  let mqttUrl = opts.mqttUrl;
  if (mqttUrl) args.push('--mqtt-url', mqttUrl);
  else {
    args.push('--mqtt-port', String(ports.mqtt));
    mqttUrl = `mqtt://127.0.0.1:${ports.mqtt}`;
  }
  // One log per incarnation (waitForOutput must not match an earlier run); info, not debug:
  // a 20,000-event burst would otherwise write a line per event.
  await fs.rm(path.join(ARTIFACTS, `${opts.name}.log`), { force: true });
  const proc = homelab(args, { name: opts.name, env: { LOG_LEVEL: 'info', ...opts.env } });
  await proc.waitForOutput('hub running', 60_000);
  return { proc, httpUrl: `http://127.0.0.1:${ports.http}`, mqttUrl, ports };
}

export interface IngestCounters {
  accepted: number;
  duplicates: number;
  results: number;
  statuses: number;
  rejected: Record<string, number>;
}

export async function healthz(httpUrl: string): Promise<{ ok: boolean; mqttConnected: boolean; ingest: IngestCounters; brokerClients: number | null }> {
  const res = await fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`/healthz answered ${res.status}`);
  return (await res.json()) as any;
}

export interface LoadAgentOptions {
  node: string;
  mqttUrl: string;
  stateDir: string;
  events: number;
  services?: number;
  rate?: number | 'max';
  /** Log file name under test-artifacts/ (one per incarnation, so waitForOutput sees only this run). */
  name: string;
  env?: NodeJS.ProcessEnv;
  /** The data root of the hub whose embedded broker it joins: its MQTT identity is provisioned there. */
  hubRoot?: string;
}

/** Starts test/support/load-agent.ts; resolves once the agent runs (state loaded, loops started). */
export async function startLoadAgent(opts: LoadAgentOptions): Promise<LoggedProcess> {
  const logFile = path.join(ARTIFACTS, `${opts.name}.log`);
  await fs.rm(logFile, { force: true });
  const args = [
    '--import',
    'tsx',
    LOAD_AGENT,
    '--node',
    opts.node,
    '--mqtt-url',
    opts.mqttUrl,
    '--state-dir',
    opts.stateDir,
    '--events',
    String(opts.events),
    '--services',
    String(opts.services ?? 40),
    '--rate',
    String(opts.rate ?? 'max'),
  ];
  const proc = spawnLogged(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...(await agentMqttEnv(opts.hubRoot, opts.node)), ...opts.env },
    logFile,
  });
  await proc.waitForOutput(/^ready node=/m, 60_000);
  return proc;
}

/** Sends SIGKILL and waits for the exit. */
export async function kill9(proc: LoggedProcess): Promise<void> {
  proc.kill('SIGKILL');
  await proc.exited;
}

/** Highest `emitted <n>` line so far, 0 before the first. */
export function emittedSoFar(proc: LoggedProcess): number {
  const all = [...proc.output().matchAll(/^emitted (\d+)$/gm)];
  return all.length ? Number(all.at(-1)![1]) : 0;
}

export interface StreamAccount {
  node: string;
  /** Stored lines of the stream, in log order. */
  lines: number;
  /** Ledger entries (durable in the outbox when emit() resolved). */
  ledger: number;
  /** Ledger seqs not in the log. */
  missing: number[];
  /** Seqs stored more than once. */
  doubled: number[];
  /** Positions where the log's seq did not ascend. */
  outOfOrder: Array<{ at: number; prev: number; seq: number }>;
  /** Load events in the log that the ledger does not list (durable but unrecorded at a kill -9 of the agent). */
  orphans: Array<{ seq: number; i: number }>;
  /** Load indexes 0..events-1 with no stored event at all. */
  indexesMissing: number[];
  /** Events of other types (the agent's own: heartbeats, docker_reachable, events_dropped, …) by type. */
  otherTypes: Record<string, number>;
  /** Service key → the stored event with the highest seq for that service. */
  lastByService: Map<string, any>;
}

/**
 * Exact accounting of one node: every ledger seq stored exactly once, no seq
 * twice, seqs ascending in log order, and every load index 0..events-1 present.
 */
export async function accountStream(root: string, node: string, stateDir: string, events: number): Promise<StreamAccount> {
  const ledger: LedgerEntry[] = readLedger(stateDir);
  const stored = await readEvents(root, node);
  const count = new Map<number, number>();
  const outOfOrder: StreamAccount['outOfOrder'] = [];
  const lastByService = new Map<string, any>();
  const otherTypes: Record<string, number> = {};
  const seenIndex = new Set<number>();
  const ledgerSeqs = new Set(ledger.map((e) => e.seq));
  const orphans: StreamAccount['orphans'] = [];
  let prev = -1;
  stored.forEach((rec, at) => {
    const e = rec.event;
    count.set(e.seq, (count.get(e.seq) ?? 0) + 1);
    if (e.seq <= prev) outOfOrder.push({ at, prev, seq: e.seq });
    prev = Math.max(prev, e.seq);
    const i = loadIndexOf(e);
    if (i === null) otherTypes[e.type] = (otherTypes[e.type] ?? 0) + 1;
    else {
      seenIndex.add(i);
      if (!ledgerSeqs.has(e.seq)) orphans.push({ seq: e.seq, i });
    }
    if (e.service) {
      const key = `${e.node}/${e.service}`;
      const last = lastByService.get(key);
      if (!last || last.seq < e.seq) lastByService.set(key, e);
    }
  });
  const indexesMissing: number[] = [];
  for (let i = 0; i < events; i++) if (!seenIndex.has(i)) indexesMissing.push(i);
  return {
    node,
    lines: stored.length,
    ledger: ledger.length,
    missing: ledger.filter((e) => !count.has(e.seq)).map((e) => e.seq),
    doubled: [...count].filter(([, n]) => n > 1).map(([s]) => s),
    outOfOrder,
    orphans,
    indexesMissing,
    otherTypes,
    lastByService,
  };
}

/** A short, readable summary for failure messages and the test log. */
export function describeAccount(a: StreamAccount): string {
  const head = (xs: unknown[]) => JSON.stringify(xs.slice(0, 10)) + (xs.length > 10 ? ` …(${xs.length})` : '');
  return (
    `${a.node}: lines=${a.lines} ledger=${a.ledger} missing=${head(a.missing)} doubled=${head(a.doubled)} ` +
    `outOfOrder=${head(a.outOfOrder)} orphans=${a.orphans.length} indexesMissing=${head(a.indexesMissing)} other=${JSON.stringify(a.otherTypes)}`
  );
}

/** world/services.json entries of `node` against the last stored event per service. */
export function worldMismatches(world: any, a: StreamAccount): string[] {
  const problems: string[] = [];
  for (const [key, e] of a.lastByService) {
    const svc = world?.services?.[key];
    const status = e.type === 'service_unhealthy' ? 'unhealthy' : 'healthy';
    if (!svc) problems.push(`${key}: missing in world`);
    else if (svc.status !== status || svc.lastSeq !== e.seq || svc.lastEventId !== e.id) {
      problems.push(`${key}: world ${svc.status}@${svc.lastSeq}/${svc.lastEventId}, log ${status}@${e.seq}/${e.id}`);
    }
  }
  const extra = Object.keys(world?.services ?? {}).filter((k) => k.startsWith(`${a.node}/`) && !a.lastByService.has(k));
  for (const k of extra) problems.push(`${k}: in world but never in the log`);
  return problems;
}

/** Highest stored seq per stream of the log (what the observer must have folded). */
export async function highestPerStream(root: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const days = await fs.readdir(path.join(root, 'events')).catch(() => [] as string[]);
  for (const day of days) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) continue;
    for (const f of await fs.readdir(path.join(root, 'events', day))) {
      if (!f.endsWith('.jsonl')) continue;
      const stream = f.slice(0, -'.jsonl'.length);
      for (const rec of await readEvents(root, stream)) out[stream] = Math.max(out[stream] ?? 0, rec.event.seq);
    }
  }
  return out;
}

/** Waits until world/*.json have folded everything the log holds. */
export async function waitWorldFolded(root: string, timeoutMs = 60_000): Promise<void> {
  const want = await highestPerStream(root);
  await waitFor(
    async () => {
      const files = await Promise.all(['services', 'nodes'].map((f) => fs.readFile(path.join(root, 'world', `${f}.json`), 'utf8').then(JSON.parse)));
      return files.every((w) => Object.entries(want).every(([s, seq]) => (w.folded?.[s] ?? -1) >= seq));
    },
    { timeoutMs, intervalMs: 250, what: `world files folded up to ${JSON.stringify(want)}` },
  );
}

/**
 * Deletes world/ and the observer's state (checkpoint, fold) and runs `homelab replay`;
 * returns the rebuilt world files' bytes. The hub must be stopped.
 */
export async function replayWorld(
  root: string,
  hostsDir: string,
  name: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ services: string; nodes: string; output: string }> {
  await fs.rm(path.join(root, 'world'), { recursive: true, force: true });
  for (const f of await fs.readdir(path.join(root, 'state')).catch(() => [] as string[])) {
    if (f !== 'hub.lock') await fs.rm(path.join(root, 'state', f), { recursive: true, force: true });
  }
  const proc = homelab(['replay', '--root', root, '--hosts', hostsDir, '--force'], { name, env: { LOG_LEVEL: 'warn', ...env } });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`homelab replay exited ${code}:\n${proc.output().slice(-4000)}`);
  const [services, nodes] = await Promise.all(['services', 'nodes'].map((f) => fs.readFile(path.join(root, 'world', `${f}.json`), 'utf8')));
  return { services: services!, nodes: nodes!, output: proc.output() };
}

export async function readWorldBytes(root: string): Promise<{ services: string; nodes: string }> {
  const [services, nodes] = await Promise.all(['services', 'nodes'].map((f) => fs.readFile(path.join(root, 'world', `${f}.json`), 'utf8')));
  return { services: services!, nodes: nodes! };
}

/** World state is only a fold of the log: a replay from nothing must give the live world files' bytes. The hub must be stopped. */
export async function expectReplayIdentical(root: string, hostsDir: string, name: string): Promise<void> {
  const live = await readWorldBytes(root);
  const replayed = await replayWorld(root, hostsDir, name);
  expect(replayed.services).toBe(live.services);
  expect(replayed.nodes).toBe(live.nodes);
}

/**
 * Every event each load agent emitted is in the log once, in seq order, and its
 * last state is in the world (agents whose state dir is `<stateRoot>/agent-<node>`,
 * none of them killed: every emit is in its ledger).
 */
export async function expectEveryEventOnce(root: string, stateRoot: string, nodes: { node: string; events: number }[], world: unknown): Promise<void> {
  for (const n of nodes) {
    const a = await accountStream(root, n.node, path.join(stateRoot, `agent-${n.node}`), n.events);
    console.log(describeAccount(a));
    expect(a.ledger, describeAccount(a)).toBe(n.events);
    expect(a.missing, describeAccount(a)).toEqual([]);
    expect(a.doubled, describeAccount(a)).toEqual([]);
    expect(a.outOfOrder, describeAccount(a)).toEqual([]);
    expect(a.orphans).toEqual([]);
    expect(a.indexesMissing).toEqual([]);
    expect(worldMismatches(world, a)).toEqual([]);
  }
}

/** Resident set size of a process in bytes (Linux /proc). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** The `outbox …` lines a load agent printed so far. */
export function outboxLines(proc: LoggedProcess): Array<{ entries: number; bytes: number; fileBytes: number; dropped: number; cap: number }> {
  return [...proc.output().matchAll(/^outbox entries=(\d+) bytes=(\d+) fileBytes=(\d+) dropped=(\d+) cap=(\d+)$/gm)].map((m) => ({
    entries: Number(m[1]),
    bytes: Number(m[2]),
    fileBytes: Number(m[3]),
    dropped: Number(m[4]),
    cap: Number(m[5]),
  }));
}

/**
 * Waits until the hub has logged the offline status each of `nodes` sent on a clean stop,
 * so that the world files folded afterwards are final.
 */
export async function waitOfflineLogged(root: string, nodes: string[], timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      const hub = (await readEvents(root, '_hub')).map((r) => r.event);
      const last = new Map<string, string>();
      for (const e of hub) last.set(e.node, e.type);
      return nodes.every((n) => last.get(n) === 'node_offline');
    },
    { timeoutMs, intervalMs: 100, what: `node_offline logged for ${nodes.join(', ')}` },
  );
}
