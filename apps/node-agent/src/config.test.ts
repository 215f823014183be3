import { describe, expect, it } from 'vitest';
import { settingsHelp } from '@homelab/contracts';
import { AGENT_OPTIONS, AGENT_SETTINGS, checkAgentConfig, parseAgentConfig } from './config';

describe('parseAgentConfig', () => {
  it('fills defaults from the node name and HOMELAB_ROOT', () => {
    const c = parseAgentConfig({ HOMELAB_NODE: 'piha', HOMELAB_ROOT: '/srv/hl' });
    expect(c).toMatchObject({
      node: 'piha',
      mqttUrl: 'mqtt://127.0.0.1:1883',
      dockerSocket: '/var/run/docker.sock',
      stateDir: '/srv/hl/agent/piha',
      heartbeatMs: 30_000,
      scanMs: 10_000,
      outboxMaxBytes: 50 * 1024 * 1024,
      commandClockSkewMs: 60_000,
    });
    expect(c.mqttUsername).toBeUndefined();
  });

  it('defaults the state dir under /opt/homelab', () => {
    expect(parseAgentConfig({}, { node: 'piha' }).stateDir).toBe('/opt/homelab/agent/piha');
  });

  it('lets flags win over the environment and reads numbers from the environment', () => {
    const c = parseAgentConfig(
      { HOMELAB_NODE: 'env-node', HOMELAB_MQTT_URL: 'mqtt://10.0.0.1:1883', HOMELAB_HEARTBEAT_MS: '5000', HOMELAB_SCAN_MS: '2500' },
      { node: 'piha', 'mqtt-url': 'mqtts://hub.lan:8883', 'state-dir': '/tmp/st', 'docker-socket': '/run/d.sock' },
    );
    expect(c).toMatchObject({
      node: 'piha',
      mqttUrl: 'mqtts://hub.lan:8883',
      stateDir: '/tmp/st',
      dockerSocket: '/run/d.sock',
      heartbeatMs: 5000,
      scanMs: 2500,
    });
  });

  it('lists every problem with the flag or variable to fix', () => {
    const res = checkAgentConfig({ HOMELAB_HEARTBEAT_MS: 'soon', HOMELAB_MQTT_URL: 'http://x' }, { node: '../evil' });
    expect(res.ok).toBe(false);
    const problems = res.ok ? [] : res.problems;
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/--node \(HOMELAB_NODE\)/);
    expect(problems.join('\n')).toMatch(/HOMELAB_HEARTBEAT_MS/);
    expect(problems.join('\n')).toMatch(/--mqtt-url \(HOMELAB_MQTT_URL\)/);
  });

  it('requires a node name', () => {
    expect(() => parseAgentConfig({})).toThrow(/--node \(HOMELAB_NODE\): required/);
  });

  it('throws one AgentError config_invalid', () => {
    expect(() => parseAgentConfig({ HOMELAB_NODE: 'Bad/Name' })).toThrowError(expect.objectContaining({ name: 'AgentError', code: 'config_invalid' }));
  });

  it('refuses an MQTT username other than the node name', () => {
    const res = checkAgentConfig({ HOMELAB_NODE: 'piha', HOMELAB_MQTT_USERNAME: 'chelsty-ha' });
    expect(res).toEqual({ ok: false, problems: [expect.stringMatching(/HOMELAB_MQTT_USERNAME.*must equal the node name/)] });
    expect(checkAgentConfig({ HOMELAB_NODE: 'piha', HOMELAB_MQTT_USERNAME: 'piha' }).ok).toBe(true);
  });
});

describe('MQTT secret of the agent', () => {
  it('reads the password from HOMELAB_MQTT_PASSWORD_FILE (first line), the direct password winning', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hl-agent-pw-'));
    try {
      const file = path.join(dir, 'mqtt.secret');
      fs.writeFileSync(file, 's3cret\n');
      expect(parseAgentConfig({ HOMELAB_NODE: 'piha', HOMELAB_MQTT_PASSWORD_FILE: file }).mqttPassword).toBe('s3cret');
      expect(parseAgentConfig({ HOMELAB_NODE: 'piha', HOMELAB_MQTT_PASSWORD: 'direct' }, { 'mqtt-password-file': file }).mqttPassword).toBe('direct');
      const missing = checkAgentConfig({ HOMELAB_NODE: 'piha' }, { 'mqtt-password-file': path.join(dir, 'nope') });
      expect(missing).toMatchObject({ ok: false });
      expect(!missing.ok && missing.problems[0]).toMatch(/--mqtt-password-file \(HOMELAB_MQTT_PASSWORD_FILE\): cannot read/);
      fs.writeFileSync(file, '\n');
      expect(checkAgentConfig({ HOMELAB_NODE: 'piha', HOMELAB_MQTT_PASSWORD_FILE: file })).toMatchObject({ ok: false });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('stack roots', () => {
  it('defaults to /opt/stacks and reads a comma-separated list from --stack-roots or HOMELAB_STACK_ROOTS', () => {
    expect(parseAgentConfig({}, { node: 'piha' }).stackRoots).toEqual(['/opt/stacks']);
    expect(parseAgentConfig({ HOMELAB_STACK_ROOTS: '/srv/stacks, /opt/compose' }, { node: 'piha' }).stackRoots).toEqual(['/srv/stacks', '/opt/compose']);
    expect(parseAgentConfig({ HOMELAB_STACK_ROOTS: '/a' }, { node: 'piha', 'stack-roots': '/b' }).stackRoots).toEqual(['/b']);
  });

  it.each([
    { roots: 'stacks', message: /absolute/ },
    { roots: '/', message: /every file/ },
    { roots: '/opt/../etc', message: /normalized/ },
    { roots: '/opt/stacks/', message: /normalized/ },
    { roots: ' , ', message: /at least one folder/ },
  ])('refuses $roots with the flag and variable to fix', ({ roots, message }) => {
    const res = checkAgentConfig({ HOMELAB_STACK_ROOTS: roots }, { node: 'piha' });
    expect(res.ok).toBe(false);
    const problems = res.ok ? '' : res.problems.join('\n');
    expect(problems).toMatch(/--stack-roots \(HOMELAB_STACK_ROOTS\)/);
    expect(problems).toMatch(message);
  });
});

describe('agent settings, declared once', () => {
  const help = settingsHelp(AGENT_SETTINGS);
  it.each(Object.entries(AGENT_SETTINGS))('lists %s in --help by its flag and its variable', (_key, s) => {
    if ('flag' in s) expect(help).toMatch(new RegExp(`^ {2}--${s.flag}\\b`, 'm'));
    expect(help).toContain(s.env);
  });

  it('gives every flag of the table to the command line, a switch or a value', () => {
    expect(Object.keys(AGENT_OPTIONS).sort()).toEqual(
      Object.values(AGENT_SETTINGS)
        .flatMap((s) => ('flag' in s ? [s.flag] : []))
        .sort(),
    );
    expect(AGENT_OPTIONS['state-dir']).toEqual({ type: 'string' });
  });

  it.each([
    [{ HOMELAB_DISK_WARN_PERCENT: '101' }, /HOMELAB_DISK_WARN_PERCENT: .*100/],
    [{ HOMELAB_OUTBOX_MAX_BYTES: '10' }, /HOMELAB_OUTBOX_MAX_BYTES: .*65536/],
    [{ DOCKER_SOCKET: 'docker.sock' }, /--docker-socket \(DOCKER_SOCKET\): must be an absolute path/],
    [{ HOMELAB_DISK_MOUNTS: 'relative' }, /HOMELAB_DISK_MOUNTS at 0: /],
  ])('names the flag or variable and the reason of a wrong value (%o)', (env, message) => {
    const res = checkAgentConfig(env, { node: 'piha' });
    expect(res.ok).toBe(false);
    expect(res.ok ? '' : res.problems.join('\n')).toMatch(message);
  });
});
