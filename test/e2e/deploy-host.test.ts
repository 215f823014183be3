import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnLogged, type TempDir } from '@homelab/testkit';
import { REPO_ROOT } from '../support/stack';

/**
 * deploy/deploy-host.sh (docs/deploy.md, "Deploy a host over SSH"): its dry
 * run prints every command for a sample host, exactly, and runs none (ssh and
 * rsync on PATH are recorders here: no host is reachable from the tests); a
 * real run runs those same commands; a bad argument stops it with a clear
 * message before anything runs.
 */
const SCRIPT = path.join(REPO_ROOT, 'deploy/deploy-host.sh');

describe('deploy-host.sh', () => {
  let tmp: TempDir;
  let bin: string;
  let calls: string;
  let files: { env: string; secret: string; tar: string };

  /** Runs the script with the recorders first on PATH; exit code, stdout and stderr. */
  const deploy = async (args: string[]) => {
    const proc = spawnLogged('bash', [SCRIPT, ...args], { cwd: tmp.path, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    const code = await proc.exited;
    return { code, out: proc.output() };
  };
  const recorded = async () => (await fs.readFile(calls, 'utf8').catch(() => '')).split('\n').filter(Boolean);

  beforeAll(async () => {
    tmp = await makeTempDir('hl-deploy-host-');
    bin = path.join(tmp.path, 'bin');
    calls = path.join(tmp.path, 'calls.log');
    await fs.mkdir(bin);
    // Records its arguments and reads its stdin (what a real ssh would send); answers the health question.
    const recorder = (name: string) =>
      `#!/usr/bin/env bash\necho "${name} $*" >> ${calls}\ncat > /dev/null\ncase "$*" in *"docker inspect"*) echo healthy ;; esac\n`;
    for (const name of ['ssh', 'rsync']) await fs.writeFile(path.join(bin, name), recorder(name), { mode: 0o755 });
    files = { env: path.join(tmp.path, 'piha.env'), secret: path.join(tmp.path, 'piha.secret'), tar: path.join(tmp.path, 'agent.tar') };
    await fs.writeFile(files.env, 'HOMELAB_NODE=piha\nHOMELAB_MQTT_URL=mqtts://vps.lan:8883\n');
    await fs.writeFile(files.secret, 'not-a-real-secret\n');
    await fs.writeFile(files.tar, '');
    await fs.writeFile(path.join(tmp.path, 'nameless.env'), 'HOMELAB_MQTT_URL=mqtts://vps.lan:8883\n');
  });
  afterAll(() => tmp?.cleanup());

  const agentArgs = () => ['--role', 'agent', '--host', 'oskar@piha.lan', '--env-file', 'piha.env', '--secret-file', files.secret, '--image-tar', files.tar];

  it('prints every command of an agent install in its dry run, and runs none', async () => {
    const { code, out } = await deploy(['--dry-run', ...agentArgs()]);
    expect(code, out).toBe(0);
    expect(out.trim().split('\n')).toEqual([
      'ssh oskar@piha.lan bash -s < deploy/bootstrap.sh',
      'ssh oskar@piha.lan install -D -m 644 /dev/stdin /opt/homelab-deploy/deploy/compose.agent.yml < deploy/compose.agent.yml',
      `ssh oskar@piha.lan install -D -m 600 /dev/stdin /opt/homelab-deploy/deploy/agent.env < ${files.env}`,
      `ssh oskar@piha.lan install -m 600 -o 1000 -g 1000 /dev/stdin /opt/homelab/agent/piha.secret < ${files.secret}`,
      `ssh oskar@piha.lan docker load < ${files.tar}`,
      'ssh oskar@piha.lan docker compose -p homelab-agent -f /opt/homelab-deploy/deploy/compose.agent.yml --env-file /opt/homelab-deploy/deploy/agent.env up -d --no-build',
      'ssh oskar@piha.lan docker inspect --format {{.State.Health.Status}} homelab-agent-piha',
    ]);
    expect(await recorded()).toEqual([]);
  });

  it('prints the hub update with sudo, a pulled image, compose v1 and the desired state', async () => {
    const args = ['--dry-run', '--role', 'hub', '--host', 'vps', '--env-file', files.env, '--image', 'registry.lan/homelab-hub:0.2.0'];
    const { code, out } = await deploy([...args, '--sudo', '--compose', 'docker-compose']);
    expect(code, out).toBe(0);
    expect(out.trim().split('\n')).toEqual([
      'ssh vps sudo bash -s < deploy/bootstrap.sh',
      'ssh vps sudo install -D -m 644 /dev/stdin /opt/homelab-deploy/deploy/compose.hub.yml < deploy/compose.hub.yml',
      `ssh vps sudo install -D -m 600 /dev/stdin /opt/homelab-deploy/deploy/hub.env < ${files.env}`,
      "rsync -a --delete --rsync-path='sudo rsync' hosts/ vps:/opt/homelab-deploy/hosts/",
      'ssh vps sudo docker pull registry.lan/homelab-hub:0.2.0',
      'ssh vps sudo docker tag registry.lan/homelab-hub:0.2.0 homelab-hub:latest',
      'ssh vps sudo docker-compose -p homelab-hub -f /opt/homelab-deploy/deploy/compose.hub.yml --env-file /opt/homelab-deploy/deploy/hub.env up -d --no-build',
      'ssh vps sudo docker inspect --format {{.State.Health.Status}} homelab-hub',
    ]);
    expect(await recorded()).toEqual([]);
  });

  it('runs what its dry run printed, then reports the container healthy', async () => {
    const printed = (await deploy(['--dry-run', ...agentArgs()])).out.trim().split('\n');
    const { code, out } = await deploy(agentArgs());
    expect(code, out).toBe(0);
    expect(out).toContain('homelab-agent-piha on oskar@piha.lan is healthy');
    // The recorders see the arguments; the local `< file` redirections fed their stdin.
    expect(await recorded()).toEqual(printed.map((line) => line.replace(/ < \S+$/, '')));
  });

  it.each([
    [['--role', 'agnet', '--host', 'piha', '--env-file', 'piha.env'], "--role must be agent or hub, not 'agnet'"],
    [['--host', 'piha', '--env-file', 'piha.env'], '--role is required (agent or hub)'],
    [['--role', 'agent', '--env-file', 'piha.env'], '--host is required'],
    [['--role', 'agent', '--host', 'piha;reboot', '--env-file', 'piha.env'], "--host 'piha;reboot' is not [user@]host"],
    [['--role', 'agent', '--host', 'piha', '--env-file', 'nope.env'], "--env-file '<tmp>/nope.env' does not exist"],
    [['--role', 'agent', '--host', 'piha', '--env-file', 'piha.env', '--frobnicate'], "unknown argument '--frobnicate'"],
    [['--role', 'agent', '--host', '--env-file', 'piha.env'], '--host needs a value'],
    [['--role', 'hub', '--host', 'vps', '--env-file', 'piha.env', '--secret-file', 'piha.secret'], '--secret-file is for --role agent'],
    [['--role', 'agent', '--host', 'piha', '--env-file', 'piha.env', '--compose', 'podman compose'], "--compose must be 'docker compose' or 'docker-compose'"],
    [['--role', 'agent', '--host', 'piha', '--env-file', 'nameless.env'], "--env-file '<tmp>/nameless.env' must set HOMELAB_NODE"],
  ])('stops on %j with a clear message before running anything', async (args, message) => {
    await fs.rm(calls, { force: true });
    const { code, out } = await deploy(args);
    expect(code).toBe(2);
    expect(out).toContain(`deploy-host.sh: ${message.replace('<tmp>', tmp.path)}`);
    expect(out).toContain('--help');
    expect(await recorded()).toEqual([]);
  });
});
