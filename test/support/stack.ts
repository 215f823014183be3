import fs from 'node:fs/promises';
import path from 'node:path';
import { freePort, spawnLogged, type LoggedProcess } from '@homelab/testkit';
import { agentMqttEnv } from './mqtt-identities';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(REPO_ROOT, 'apps/cli/bin/homelab.mjs');
export const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts');

/** Runs the real `homelab` command as a child process, logging to test-artifacts/. */
export function homelab(args: string[], opts: { name: string; env?: NodeJS.ProcessEnv }): LoggedProcess {
  return spawnLogged(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'debug', ...opts.env },
    logFile: path.join(ARTIFACTS, `${opts.name}.log`),
  });
}

export interface HubProcess {
  proc: LoggedProcess;
  httpUrl: string;
  mqttUrl: string;
  root: string;
  /** Generated on the hub's first start (<root>/auth/initial-credentials.json). */
  auth: { user: string; password: string | null; operatorToken: string; viewerToken: string };
  /** fetch against the hub with the operator token (or `token`) and a JSON content type. */
  api(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
}

/** `Authorization: Bearer <token>` (plus a JSON content type for bodies). */
export const bearer = (token: string, json = true): Record<string, string> => ({
  authorization: `Bearer ${token}`,
  ...(json ? { 'content-type': 'application/json' } : {}),
});

/** Starts `homelab hub` with the embedded broker, or against `mqttUrl` when given. */
export async function startHubProcess(opts: { root: string; hostsDir: string; name: string; mqttUrl?: string; env?: NodeJS.ProcessEnv }): Promise<HubProcess> {
  const httpPort = await freePort();
  const args = ['hub', '--root', opts.root, '--hosts', opts.hostsDir, '--http-port', String(httpPort)];
  let mqttUrl = opts.mqttUrl;
  if (mqttUrl) args.push('--mqtt-url', mqttUrl);
  else {
    const mqttPort = await freePort();
    args.push('--mqtt-port', String(mqttPort));
    mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
  }
  const proc = homelab(args, { name: opts.name, env: { HOMELAB_SUPERVISOR_INTERVAL_MS: '1000', ...opts.env } });
  await proc.waitForOutput('hub running', 60_000);
  const auth = JSON.parse(await fs.readFile(path.join(opts.root, 'auth/initial-credentials.json'), 'utf8')) as HubProcess['auth'];
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const api = (p: string, init: RequestInit & { token?: string } = {}) => {
    const { token, headers, ...rest } = init;
    return fetch(`${httpUrl}${p}`, {
      ...rest,
      headers: { ...bearer(token ?? auth.operatorToken, rest.body !== undefined), ...(headers as Record<string, string> | undefined) },
    });
  };
  return { proc, httpUrl, mqttUrl, root: opts.root, auth, api };
}

/**
 * Starts `homelab agent`. With `hubRoot` (the data root of the hub whose embedded broker it
 * joins) the node's MQTT identity is provisioned there first and its secret passed on.
 */
export async function startAgentProcess(opts: {
  node: string;
  mqttUrl: string;
  dockerSocket: string;
  stateDir: string;
  name: string;
  hubRoot?: string;
  /** `--stack-roots`: folders whose compose files redeploy may run (default /opt/stacks). */
  stackRoots?: string[];
}): Promise<LoggedProcess> {
  const roots = opts.stackRoots ? ['--stack-roots', opts.stackRoots.join(',')] : [];
  const proc = homelab(
    ['agent', '--node', opts.node, '--mqtt-url', opts.mqttUrl, '--docker-socket', opts.dockerSocket, '--state-dir', opts.stateDir, ...roots],
    {
      name: opts.name,
      env: await agentMqttEnv(opts.hubRoot, opts.node),
    },
  );
  return proc;
}

export async function readJson<T = any>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** All stored event lines of one stream, across every day. */
export async function readEvents(root: string, stream: string): Promise<any[]> {
  const days = (await fs.readdir(path.join(root, 'events')).catch(() => [] as string[])).sort();
  const out: any[] = [];
  for (const day of days) {
    const text = await fs.readFile(path.join(root, 'events', day, `${stream}.jsonl`), 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (line) out.push(JSON.parse(line));
  }
  return out;
}

export async function writeHosts(hostsDir: string, files: Record<string, string>): Promise<void> {
  for (const [node, yaml] of Object.entries(files)) {
    await fs.mkdir(path.join(hostsDir, node), { recursive: true });
    await fs.writeFile(path.join(hostsDir, node, 'services.yaml'), yaml);
  }
}
