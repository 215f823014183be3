import { describe, expect, it } from 'vitest';
import { AGENT_CREDENTIAL_ENV } from './agent-env';
import { ComposeSpec, MqttProbe, RestartBudget } from './desired';

const firstMessage = (r: { success: boolean; error?: { issues: { message: string }[] } }) => (r.success ? null : r.error!.issues[0]!.message);

describe('ComposeSpec.file', () => {
  it.each([
    { why: 'a NUL byte', file: '/opt/stacks/a\0.yml', message: /control characters/ },
    { why: 'a newline', file: '/opt/stacks/a\n.yml', message: /control characters/ },
    { why: 'a relative path', file: 'stacks/a.yml', message: /absolute path/ },
    { why: 'a .. segment', file: '/opt/stacks/../../etc/a.yml', message: /\.\./ },
    { why: 'a // in the middle', file: '/opt//stacks/a.yml', message: /normalized/ },
    { why: 'a /./ segment', file: '/opt/./stacks/a.yml', message: /normalized/ },
    { why: 'a file that is no compose file', file: '/etc/shadow', message: /\.yml or \.yaml/ },
  ])('refuses $why with a clear reason', ({ file, message }) => {
    expect(firstMessage(ComposeSpec.safeParse({ file, project: 'p' }))).toMatch(message);
  });

  it.each(['/opt/stacks/z2m/docker-compose.yml', '/srv/compose.yaml'])('accepts %s', (file) => {
    expect(ComposeSpec.safeParse({ file, project: 'p' }).success).toBe(true);
  });
});

describe('MqttProbe.passwordEnv', () => {
  it.each(Object.values(AGENT_CREDENTIAL_ENV))('refuses the agent’s own credential variable %s', (name) => {
    expect(firstMessage(MqttProbe.safeParse({ type: 'mqtt', url: 'mqtt://evil.example:1883', passwordEnv: name }))).toMatch(/agent's own broker credential/);
  });

  it('accepts a variable of the probe’s own', () => {
    expect(MqttProbe.safeParse({ type: 'mqtt', url: 'mqtt://127.0.0.1:1883', passwordEnv: 'PROBE_MQTT_PASSWORD' }).success).toBe(true);
  });
});

describe('RestartBudget', () => {
  it.each(['0', '0s', '500ms', '24h'])('accepts a backoff of %s', (backoff) => {
    expect(RestartBudget.safeParse({ backoff }).success).toBe(true);
  });

  it('accepts a bare 0, as YAML reads `backoff: 0`, and keeps it as the duration "0"', () => {
    expect(RestartBudget.parse({ backoff: 0 })).toEqual({ backoff: '0' });
  });

  it.each([5, '25h', 'soon'])('refuses a backoff of %s with a reason', (backoff) => {
    expect(firstMessage(RestartBudget.safeParse({ backoff }))).toBeTruthy();
  });
});
