import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProbeSpec } from '@homelab/contracts';
import { probePassword, probeRunner } from './probes';

describe('probePassword', () => {
  const secrets = { env: { HOMELAB_MQTT_PASSWORD: 's3cret', COPY: 's3cret', PROBE_PW: 'probe-pw' }, agentSecret: 's3cret' };
  it.each([
    { why: 'no passwordEnv', name: undefined, out: { ok: true } },
    { why: 'a variable of its own', name: 'PROBE_PW', out: { ok: true, password: 'probe-pw' } },
    { why: 'an unset variable', name: 'UNSET', out: { ok: true, password: undefined } },
    {
      why: "the agent's credential variable",
      name: 'HOMELAB_MQTT_PASSWORD',
      out: { ok: false, detail: "passwordEnv HOMELAB_MQTT_PASSWORD holds the agent's own broker credential; not sent" },
    },
    {
      why: "the agent's password file variable",
      name: 'HOMELAB_MQTT_PASSWORD_FILE',
      out: { ok: false, detail: "passwordEnv HOMELAB_MQTT_PASSWORD_FILE holds the agent's own broker credential; not sent" },
    },
    {
      why: "another variable holding the agent's secret",
      name: 'COPY',
      out: { ok: false, detail: "passwordEnv COPY holds the agent's own broker credential; not sent" },
    },
  ])('$why', ({ name, out }) => {
    expect(probePassword(name, secrets)).toEqual(out);
  });
});

describe('mqtt probe with a refused passwordEnv', () => {
  let server: net.Server;
  let connections = 0;
  let port = 0;
  beforeEach(async () => {
    connections = 0;
    server = net.createServer((s) => {
      connections += 1;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it('fails the run with the reason and never connects to the URL', async () => {
    const run = probeRunner({ env: { HOMELAB_MQTT_PASSWORD: 's3cret' }, agentSecret: 's3cret' });
    const probe: ProbeSpec = { type: 'mqtt', url: `mqtt://127.0.0.1:${port}`, username: 'x', passwordEnv: 'HOMELAB_MQTT_PASSWORD' };
    expect(await run(probe, 500)).toEqual({
      ok: false,
      detail: `mqtt mqtt://127.0.0.1:${port}: passwordEnv HOMELAB_MQTT_PASSWORD holds the agent's own broker credential; not sent`,
    });
    expect(connections).toBe(0);
  });
});
