import { spawn } from 'node:child_process';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { topics } from '@homelab/contracts';
import { exportedMetricNames } from '@homelab/hub/metrics';
import { freePort, makeTempDir, waitFor, type LoggedProcess, type TempDir } from '@homelab/testkit';
import { agentMqttEnv, provisionMqtt, testSecret } from '../support/mqtt-identities';
import { homelab, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/** `promtool check metrics` (Debian's prometheus package) on an exposition: its exit code and what it said. */
function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (b: Buffer) => (output += b.toString()));
    p.stderr.on('data', (b: Buffer) => (output += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, output }));
    p.stdin.end(text);
  });
}

/** The `name{labels} value` lines of an exposition. */
const samples = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

/**
 * docs/metrics.md and docs/host-health.md on real processes: the hub (embedded
 * broker) with its opt-in open /metrics listener, a real `homelab agent` on the
 * real Docker engine heartbeating every second, and a node identity publishing
 * the heartbeat of a hot, throttled Raspberry Pi.
 */
describe('/metrics and host health', () => {
  let tmp: TempDir;
  let hub: HubProcess;
  let agent: LoggedProcess;
  let pi: MqttClient;
  let openPort: number;

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-metrics-');
    const hostsDir = path.join(tmp.path, 'hosts');
    // A service whose container does not exist: a real detection (service_unhealthy) for the latency histogram.
    await writeHosts(hostsDir, { n1: `node: n1\nservices:\n  ghost:\n    containers: [hl-e2e-metrics-absent-${process.pid}]\n` });
    openPort = await freePort();
    hub = await startHubProcess({ root: path.join(tmp.path, 'root'), hostsDir, name: 'metrics-hub', env: { HOMELAB_METRICS_PORT: String(openPort) } });
    agent = homelab(
      ['agent', '--node', 'n1', '--mqtt-url', hub.mqttUrl, '--docker-socket', inject('dockerSocket'), '--state-dir', path.join(tmp.path, 'agent-n1')],
      { name: 'metrics-agent', env: { ...(await agentMqttEnv(hub.root, 'n1')), HOMELAB_HEARTBEAT_MS: '1000', HOMELAB_SCAN_MS: '1000' } },
    );
    await provisionMqtt(hub.root, ['pi5']);
    pi = await mqtt.connectAsync(hub.mqttUrl, { clientId: 'pi5', username: 'pi5', password: testSecret('pi5'), reconnectPeriod: 0 });
  }, 120_000);

  afterAll(async () => {
    await pi?.endAsync();
    await agent?.stop();
    await hub?.proc.stop();
    await tmp?.cleanup();
  });

  const scrape = async (token?: string) => {
    const res = await fetch(`${hub.httpUrl}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };

  it('refuses /metrics on the UI port without credentials', async () => {
    expect((await scrape()).status).toBe(401);
    expect((await scrape('hlv_not-a-token')).status).toBe(401);
  });

  it("shows a real agent's heartbeat as node gauges, and the detection of its unhealthy service", async () => {
    const text = await waitFor(
      async () => {
        const { text } = await scrape(hub.auth.viewerToken);
        const s = samples(text);
        const has = (prefix: string) => s.some((l) => l.startsWith(prefix));
        return has('homelab_node_memory_available_bytes{node="n1"}') &&
          has('homelab_node_agent_resident_memory_bytes{node="n1"}') &&
          has('homelab_detection_latency_seconds_count{type="service_unhealthy"}') &&
          has('homelab_services{node="n1",status="unhealthy"} 1')
          ? text
          : null;
      },
      { timeoutMs: 60_000, what: "n1's host figures and a detection in /metrics" },
    );
    const s = samples(text);
    expect(s).toContain('homelab_node_online{node="n1"} 1');
    expect(s.some((l) => /^homelab_events_ingested_total [1-9]/.test(l))).toBe(true);
    expect(s.some((l) => /^homelab_mqtt_clients [1-9]/.test(l))).toBe(true);
    // Measured at most every 10 s (a walk of the log's files).
    await waitFor(async () => samples((await scrape(hub.auth.viewerToken)).text).some((l) => /^homelab_event_log_bytes [1-9]/.test(l)), {
      timeoutMs: 30_000,
      what: 'the event log size in /metrics',
    });
  });

  it('reports a hot, throttled Raspberry Pi: findings, gauges and its node page', async () => {
    const heartbeat = {
      id: 'pi5-1',
      node: 'pi5',
      seq: 1,
      ts: new Date().toISOString(),
      type: 'node_heartbeat',
      data: { uptimeSec: 600, load1: 0.4, services: 0, agentRssMb: 44, cpuTempC: 82.5, memAvailableMb: 2900, throttled: 0x50005 },
    };
    await pi.publishAsync(topics.events('pi5'), JSON.stringify(heartbeat), { qos: 1 });
    const summary = await waitFor(
      async () => {
        const s = (await (await hub.api('/summary', { token: hub.auth.viewerToken })).json()) as {
          findings: Array<{ kind: string; node?: string; message: string }>;
        };
        return s.findings.some((f) => f.kind === 'host_throttled' && f.node === 'pi5') ? s : null;
      },
      { timeoutMs: 30_000, what: 'host findings for pi5' },
    );
    const kinds = summary.findings.filter((f) => f.node === 'pi5').map((f) => f.kind);
    expect(kinds).toEqual(expect.arrayContaining(['host_temperature', 'host_throttled']));
    expect(summary.findings.find((f) => f.kind === 'host_temperature')!.message).toMatch(/^pi5: CPU at 82.5 °C/);

    const s = samples((await scrape(hub.auth.viewerToken)).text);
    expect(s).toContain('homelab_node_cpu_temperature_celsius{node="pi5"} 82.5');
    expect(s).toContain('homelab_node_throttled{node="pi5",condition="under_voltage",when="now"} 1');
    expect(s).toContain('homelab_node_throttled{node="pi5",condition="soft_temp_limit",when="now"} 0');
    expect(s).toContain('homelab_findings{kind="host_temperature"} 1');

    const page = await (await hub.api('/nodes/pi5', { token: hub.auth.viewerToken, headers: { accept: 'text/html' } })).text();
    expect(page).toContain('82.5 °C');
    expect(page).toContain('under-voltage, throttled now');
  });

  it('passes `promtool check metrics` on the real output, every series of it declared', async () => {
    const { status, type, text } = await scrape(hub.auth.viewerToken);
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    const checked = await promtoolCheck(text);
    expect(checked.output).toBe('');
    expect(checked.code).toBe(0);
    const names = new Set(samples(text).map((l) => l.split(/[{ ]/)[0]));
    for (const n of [
      'homelab_node_cpu_temperature_celsius',
      'homelab_detection_latency_seconds_bucket',
      'homelab_actions',
      'homelab_node_last_seen_timestamp_seconds',
    ])
      expect(names).toContain(n);
    const declared = new Set(exportedMetricNames());
    expect([...names].filter((n) => !declared.has(n!))).toEqual([]);
  });

  it('serves /metrics without credentials on the opt-in listener, and nothing else there', async () => {
    const open = await fetch(`http://127.0.0.1:${openPort}/metrics`);
    expect(open.status).toBe(200);
    const checked = await promtoolCheck(await open.text());
    expect(checked.code).toBe(0);
    for (const p of ['/summary', '/api/world', '/metrics/../summary', '/']) expect((await fetch(`http://127.0.0.1:${openPort}${p}`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${openPort}/metrics`, { method: 'POST' })).status).toBe(404);
  });
});
