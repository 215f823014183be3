import fs from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeTempDir } from '@homelab/testkit';
import { AGENT_IMAGE, buildContextFiles, buildImages, dockerCli, HUB_IMAGE, type BuiltImages } from '../support/images';
import { ARTIFACTS, REPO_ROOT } from '../support/stack';

/**
 * Both images built by `docker build` from the shipped Dockerfiles on the test engine, as an
 * operator builds them (docs/deploy.md "Images"); test/e2e/agent-containers.test.ts runs them.
 */
describe('images built from the shipped Dockerfiles', () => {
  const socket = inject('dockerSocket');
  const docker = new Docker({ socketPath: socket });
  const busybox = inject('busyboxImage');
  let built: BuiltImages;

  beforeAll(async () => {
    built = await buildImages(docker, socket, ARTIFACTS);
  }, 20 * 60_000);

  it('sends no node_modules, .git, data roots, credentials or test output in the build context', async () => {
    const files = await buildContextFiles(socket, busybox);
    expect(files).toContain('deploy/hub.Dockerfile');
    expect(files).toContain('apps/cli/package.json');
    const forbidden = /(^|\/)(node_modules|\.git|\.homelab|test-artifacts|dist)(\/|$)|\.(secret|token|pem|key|log)$/;
    expect(files.filter((f) => forbidden.test(f))).toEqual([]);
    // A checkout that has been used: a data root with credentials, build output, secrets.
    const used = await makeTempDir('hl-ctx-');
    try {
      await fs.cp(path.join(REPO_ROOT, '.dockerignore'), path.join(used.path, '.dockerignore'));
      const plant = [
        '.homelab/auth/initial-credentials.json',
        'apps/hub/.homelab/auth/credentials.json',
        'node_modules/x/index.js',
        'apps/cli/node_modules/y.js',
        '.git/config',
        'test-artifacts/hub.log',
        'dist/homelab.mjs',
        'deploy/piha.secret',
        'mirror.token',
        'hosts/piha/services.yaml',
        'apps/cli/src/main.ts',
      ];
      for (const f of plant) {
        await fs.mkdir(path.dirname(path.join(used.path, f)), { recursive: true });
        await fs.writeFile(path.join(used.path, f), 'x');
      }
      expect(await buildContextFiles(socket, busybox, used.path)).toEqual(['apps/cli/src/main.ts']);
    } finally {
      await used.cleanup();
    }
  });

  it('labels both images and runs neither as root, each with a healthcheck', async () => {
    for (const [tag, title] of [
      [HUB_IMAGE, 'homelab-hub'],
      [AGENT_IMAGE, 'homelab-agent'],
    ] as const) {
      const { Config } = await docker.getImage(tag).inspect();
      expect(Config.Labels).toMatchObject({ 'org.opencontainers.image.title': title, 'org.opencontainers.image.version': built.version });
      expect(Config.User).toBe('1000:1000');
      expect(Config.Healthcheck?.Test?.[0]).toBe('CMD');
    }
    // The checks can fail: a hub that does not answer, an agent without its socket.
    const check = (image: string, role: string, env: string) =>
      dockerCli(socket, ['run', '--rm', '--network', 'none', '-e', env, '--entrypoint', 'node', image, '/app/healthcheck.mjs', role]).then(
        () => 0,
        (err: { code?: number }) => err.code,
      );
    expect(await check(HUB_IMAGE, 'hub', 'HOMELAB_HTTP_PORT=18180')).toBe(1);
    expect(await check(AGENT_IMAGE, 'agent', 'DOCKER_SOCKET=/var/run/docker.sock')).toBe(1);
  });

  it('starts the agent with the flags of deploy/agent-bundle.mjs and docker-compose v1 beside it', async () => {
    const { AGENT_NODE_FLAGS } = (await import(path.join(REPO_ROOT, 'deploy/agent-bundle.mjs'))) as { AGENT_NODE_FLAGS: string[] };
    expect((await docker.getImage(AGENT_IMAGE).inspect()).Config.Entrypoint).toEqual(['node', ...AGENT_NODE_FLAGS, '/app/homelab-agent.mjs']);
    const { stdout, stderr } = await dockerCli(socket, [
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      'docker-compose',
      AGENT_IMAGE,
      'version',
      '--short',
    ]);
    expect(stdout.trim()).toBe('1.29.2');
    expect(stderr).toBe('');
    // V8 warns at every start when a flag conflicts with lite mode.
    const help = await dockerCli(socket, ['run', '--rm', '--network', 'none', AGENT_IMAGE, 'agent', '--help']);
    expect(help.stdout).toContain('--node');
    expect(help.stderr).toBe('');
  });
});
