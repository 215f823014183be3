import { describe, expect, it } from 'vitest';
import { COMPOSE_OUTPUT_TAIL, composeEnv, composeRedeployArgv, execFileCompose } from './compose';

describe('composeRedeployArgv', () => {
  it('builds the docker-compose v1 argv by default, with the compose service defaulting to the service name', () => {
    expect(composeRedeployArgv('z2m', { file: '/srv/z2m/docker-compose.yml', project: 'z2m' })).toEqual({
      file: 'docker-compose',
      args: ['-f', '/srv/z2m/docker-compose.yml', '-p', 'z2m', 'up', '-d', '--force-recreate', '--', 'z2m'],
    });
  });

  it('adds --build when configured and uses `docker compose` for v2', () => {
    expect(composeRedeployArgv('z2m', { file: '/srv/c.yml', project: 'home', service: 'zigbee', build: true, command: 'docker compose' })).toEqual({
      file: 'docker',
      args: ['compose', '-f', '/srv/c.yml', '-p', 'home', 'up', '-d', '--force-recreate', '--build', '--', 'zigbee'],
    });
  });

  it.each([
    { why: 'a relative file', spec: { file: 'c.yml', project: 'p' } },
    { why: 'a file with ..', spec: { file: '/srv/../etc/c.yml', project: 'p' } },
    { why: 'a file with a NUL byte', spec: { file: '/srv/c\0.yml', project: 'p' } },
    { why: 'a project that looks like a flag', spec: { file: '/c.yml', project: '-p' } },
    { why: 'a compose service with a slash', spec: { file: '/c.yml', project: 'p', service: 'a/b' } },
    { why: 'an unknown command', spec: { file: '/c.yml', project: 'p', command: 'sh -c' } },
  ])('refuses $why before anything is run', ({ spec }) => {
    expect(() => composeRedeployArgv('z2m', spec)).toThrow();
  });

  it('refuses a service name outside the name pattern', () => {
    expect(() => composeRedeployArgv('--rm', { file: '/c.yml', project: 'p' })).toThrow();
  });
});

describe('execFileCompose', () => {
  it('keeps only the output tail and reports the exit code', async () => {
    const script = `process.stdout.write('a'.repeat(20000)); process.stderr.write('END'); process.exit(3)`;
    const r = await execFileCompose({ file: process.execPath, args: ['-e', script] }, { env: process.env, timeoutMs: 10_000 });
    expect(r).toMatchObject({ ok: false, exitCode: 3, timedOut: false });
    expect(r.output.length).toBeLessThanOrEqual(COMPOSE_OUTPUT_TAIL);
    expect(r.output.endsWith('END')).toBe(true);
  });

  it('passes arguments literally (no shell) and the DOCKER_HOST of the agent socket', async () => {
    const r = await execFileCompose(
      { file: process.execPath, args: ['-e', 'console.log(process.argv[1], process.env.DOCKER_HOST)', '$(touch /tmp/x);'] },
      { env: composeEnv(process.env, '/run/dock.sock'), timeoutMs: 10_000 },
    );
    expect(r).toMatchObject({ ok: true, exitCode: 0 });
    expect(r.output.trim()).toBe('$(touch /tmp/x); unix:///run/dock.sock');
  });

  it('kills the program at the timeout and says so', async () => {
    const r = await execFileCompose({ file: process.execPath, args: ['-e', 'setTimeout(() => {}, 60000)'] }, { env: process.env, timeoutMs: 300 });
    expect(r).toMatchObject({ ok: false, timedOut: true });
  });

  it('answers a failed outcome, never a throw, for an argument exec refuses (a NUL byte)', async () => {
    const r = await execFileCompose({ file: process.execPath, args: ['-e', '1', '/opt/stacks/a\0.yml'] }, { env: process.env, timeoutMs: 1000 });
    expect(r).toMatchObject({ ok: false, exitCode: null, timedOut: false });
    expect(r.spawnError).toMatch(/null bytes/);
  });

  it('reports a program that cannot be started', async () => {
    const r = await execFileCompose({ file: '/nonexistent/docker-compose', args: [] }, { env: process.env, timeoutMs: 1000 });
    expect(r.ok).toBe(false);
    expect(r.spawnError).toMatch(/ENOENT/);
  });
});
