import fs from 'node:fs/promises';
import path from 'node:path';
import { addCredentials, CREDENTIALS_FILE, HUB_CLIENT_ID } from '@homelab/hub';
import { canConnect, freePort, sleep, spawnLogged } from '@homelab/testkit';
import { testSecret } from '../support/mqtt-identities';
import { CLI, REPO_ROOT, type BenchMosquitto } from './procs';

/** What the fleet benchmark builds before any process starts: hosts/, MQTT identities, Mosquitto's files. */

export const fleetNode = (i: number) => `fleet-${String(i).padStart(4, '0')}`;
export const fleetService = (s: number) => `svc-${String(s).padStart(2, '0')}`;

/**
 * hosts/<node>/services.yaml for every node (one container per service, named
 * like it) and hosts/policy.yaml: restarts approved by policy, with a budget
 * that never escalates, so every failure is repaired through the hub.
 */
export async function writeFleetHosts(hostsDir: string, nodes: number, services: number): Promise<void> {
  await fs.mkdir(hostsDir, { recursive: true });
  await fs.writeFile(path.join(hostsDir, 'policy.yaml'), "autoApprove: low\nrestartBudget: {max: 100, window: 1h, backoff: '0'}\n");
  const body = Array.from({ length: services }, (_, s) => `  ${fleetService(s)}: {}`).join('\n');
  for (let i = 0; i < nodes; i++) {
    const node = fleetNode(i);
    await fs.mkdir(path.join(hostsDir, node), { recursive: true });
    await fs.writeFile(path.join(hostsDir, node, 'services.yaml'), `node: ${node}\nservices:\n${body}\n`);
  }
}

/**
 * The MQTT identities of every node and of the hub (for the external broker),
 * made once with the hub's own addCredentials (what `homelab nodes add` runs:
 * a scrypt hash for the embedded broker, a PBKDF2 line for Mosquitto), then
 * copied into each variant's data root. Secrets are testSecret(name).
 */
export async function makeFleetCredentials(templateRoot: string, nodes: number): Promise<string> {
  const names = Array.from({ length: nodes }, (_, i) => fleetNode(i));
  // In chunks: addCredentials hashes all of its entries at once.
  for (let i = 0; i < names.length; i += 100) {
    await addCredentials(
      templateRoot,
      names.slice(i, i + 100).map((name) => ({ name, role: 'node' as const, secret: testSecret(name) })),
    );
  }
  await addCredentials(templateRoot, [{ name: HUB_CLIENT_ID, role: 'hub', secret: testSecret(HUB_CLIENT_ID) }]);
  return path.join(templateRoot, CREDENTIALS_FILE);
}

export async function copyCredentials(file: string, root: string): Promise<void> {
  await fs.mkdir(path.join(root, path.dirname(CREDENTIALS_FILE)), { recursive: true, mode: 0o700 });
  await fs.copyFile(file, path.join(root, CREDENTIALS_FILE));
}

/**
 * Mosquitto as an operator sets it up (docs/security.md): `homelab broker-config`
 * writes the password file, the ACL and the conf from the hub's credentials; the
 * conf is used as generated, but for its listener (a free loopback port), and
 * logging to a file without per-message lines.
 */
export async function startFleetMosquitto(dir: string, root: string): Promise<BenchMosquitto & { hubPasswordFile: string }> {
  const out = path.join(dir, 'mosquitto');
  const gen = spawnLogged(process.execPath, [CLI, 'broker-config', '--root', root, '--out', out], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  if ((await gen.exited) !== 0) throw new Error(`homelab broker-config failed: ${gen.output()}`);
  const generated = (await fs.readFile(path.join(out, 'mosquitto.conf'), 'utf8'))
    .split('\n')
    .filter((l) => !l.startsWith('listener'))
    .join('\n');
  const port = await freePort();
  const logFile = path.join(out, 'mosquitto.log');
  const conf = path.join(out, 'bench.conf');
  await fs.writeFile(
    conf,
    [`listener ${port} 127.0.0.1`, 'persistence false', 'user root', `log_dest file ${logFile}`, 'log_type error', 'log_type warning', generated, ''].join(
      '\n',
    ),
  );
  const proc = spawnLogged('mosquitto', ['-c', conf], { maxBufferBytes: 16 * 1024 });
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (!proc.running || Date.now() > deadline) throw new Error(`mosquitto did not start: ${proc.output()}`);
    await sleep(20);
  }
  const hubPasswordFile = path.join(dir, 'hub.secret');
  await fs.writeFile(hubPasswordFile, `${testSecret(HUB_CLIENT_ID)}\n`, { mode: 0o600 });
  return { pid: proc.pid, port, url: `mqtt://127.0.0.1:${port}`, logFile, hubPasswordFile, stop: async () => void (await proc.stop(5_000)) };
}
