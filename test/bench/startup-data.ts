import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { freePort, sleep } from '@homelab/testkit';
import { SERVICE_NAMES } from './events';
import { CLI, REPO_ROOT, spawnHub } from './procs';
import { generateLog } from './replay';

/**
 * The data roots of the start benchmark (test/bench/startup.ts): a fleet's
 * event log written by the replay benchmark's generator (`generateLog`, the
 * event log's own encoder), `hosts/<node>/services.yaml` listing every service
 * it reports, then made the way an operator's root is made: `homelab replay`
 * (checkpoint, fold state, world files, quarantine scan state), then one start
 * of the hub (auth, layout, the supervisor's actions). 10,000,000 events are
 * about 2.6 GB and take minutes to write, so the result is kept under
 * node_modules/.cache/homelab-bench/, keyed by the generator's version and size.
 */

/** Bump when the generator or the preparation changes: older cached roots are then made again. */
const GENERATOR_VERSION = 1;
const CACHE_DIR = path.join(REPO_ROOT, 'node_modules/.cache/homelab-bench');
const READY_FILE = 'bench-ready.json';

export interface FleetShape {
  events: number;
  nodes: number;
  services: number;
  days: number;
}

export interface PreparedRoot extends FleetShape {
  dir: string;
  root: string;
  hosts: string;
  logBytes: number;
  files: number;
  viewerToken: string;
  /** Seconds the one-off generation took (writing the log; replay and the first hub start). */
  generateSeconds: number;
  prepareSeconds: number;
}

/** The hub's settings for every start of the benchmark: retention never compresses these (old) days, as in the replay benchmark. */
export const BENCH_HUB_ENV = { HOMELAB_RETENTION_COMPRESS_DAYS: '36500' };

export function cacheKey(s: FleetShape): string {
  return `startup-v${GENERATOR_VERSION}-${s.events}e-${s.nodes}n${s.services}s-${s.days}d`;
}

/** services.yaml of a generated node: every service the generator reports, with the container name it uses. */
function servicesYaml(node: string, services: number): string {
  const lines = [`node: ${node}`, 'services:'];
  for (const s of SERVICE_NAMES.slice(0, services)) lines.push(`  ${s}:`, `    containers: [${s}-1]`);
  return `${lines.join('\n')}\n`;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')} exited ${code}: ${err}`))));
  });
}

/** GET with a bearer token; the status code, or 0 when nothing listens yet. */
export function getStatus(url: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

/** The generated root for `shape`, from the cache or written now (`log` reports progress). */
export async function preparedRoot(shape: FleetShape, log: (s: string) => void): Promise<PreparedRoot> {
  const dir = path.join(CACHE_DIR, cacheKey(shape));
  const ready = await fs.readFile(path.join(dir, READY_FILE), 'utf8').catch(() => null);
  if (ready) return { ...(JSON.parse(ready) as PreparedRoot), dir, root: path.join(dir, 'root'), hosts: path.join(dir, 'hosts') };
  await fs.rm(dir, { recursive: true, force: true });
  const root = path.join(dir, 'root');
  const hosts = path.join(dir, 'hosts');
  await fs.mkdir(root, { recursive: true });
  log(`  writing ${shape.events.toLocaleString('en-US')} events to ${path.relative(REPO_ROOT, dir)} (one-off, kept for later runs)`);
  const t0 = performance.now();
  const { bytes, files } = await generateLog(root, shape);
  for (let i = 0; i < shape.nodes; i++) {
    const node = `node-${String(i + 1).padStart(2, '0')}`;
    await fs.mkdir(path.join(hosts, node), { recursive: true });
    await fs.writeFile(path.join(hosts, node, 'services.yaml'), servicesYaml(node, shape.services));
  }
  const generateSeconds = (performance.now() - t0) / 1000;
  log(`  written: ${(bytes / 2 ** 20).toFixed(0)} MiB in ${files} files, ${generateSeconds.toFixed(0)} s; homelab replay, then one hub start`);
  const t1 = performance.now();
  const env = { ...process.env, ...BENCH_HUB_ENV, LOG_LEVEL: 'warn' };
  await run(process.execPath, [CLI, 'replay', '--root', root, '--hosts', hosts], env);
  const httpPort = await freePort();
  const hub = spawnHub(
    ['--root', root, '--hosts', hosts, '--http-port', String(httpPort), '--mqtt-port', String(await freePort())],
    path.join(dir, 'prepare-hub.log'),
    BENCH_HUB_ENV,
  );
  let viewerToken: string;
  try {
    await hub.waitForOutput('hub running', 30 * 60_000);
    const creds = JSON.parse(await fs.readFile(path.join(root, 'auth/initial-credentials.json'), 'utf8')) as { viewerToken: string };
    viewerToken = creds.viewerToken;
    // Wait for the supervisor's first actions to be on disk: the root then holds what a running hub leaves.
    while ((await getStatus(`http://127.0.0.1:${httpPort}/summary`, viewerToken)).status !== 200) await sleep(100);
    await sleep(3000);
  } finally {
    await hub.stop(120_000);
  }
  const prepareSeconds = (performance.now() - t1) / 1000;
  const out: PreparedRoot = { ...shape, dir, root, hosts, logBytes: bytes, files, viewerToken, generateSeconds, prepareSeconds };
  await fs.writeFile(path.join(dir, READY_FILE), `${JSON.stringify(out, null, 2)}\n`);
  return out;
}

/** The observer's derived state: deleting these makes the hub replay the whole log at start (docs/observer-runtime.md). */
export const OBSERVER_STATE_FILES = ['state/observer_checkpoint.json', 'state/observer_fold.json', 'world/services.json', 'world/nodes.json'];

/** A run stopped during a replay start leaves the root without its checkpoint: `homelab replay` puts it back (not timed). */
export async function ensureCheckpoint(r: PreparedRoot): Promise<void> {
  if (await fs.stat(path.join(r.root, OBSERVER_STATE_FILES[0]!)).catch(() => null)) return;
  await run(process.execPath, [CLI, 'replay', '--root', r.root, '--hosts', r.hosts], { ...process.env, ...BENCH_HUB_ENV, LOG_LEVEL: 'warn' });
}

export async function deleteObserverState(root: string): Promise<void> {
  for (const f of OBSERVER_STATE_FILES) await fs.rm(path.join(root, f), { force: true });
}
