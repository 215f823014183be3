import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import mqtt from 'mqtt';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { makeTempDir, startMosquitto, waitFor, type MosquittoHandle } from '@homelab/testkit';

const execFileAsync = promisify(execFile);
const docker = new Docker({ socketPath: inject('dockerSocket') });
const image = inject('busyboxImage');

describe('testkit: dockerd + busybox image', () => {
  it('runs a container with a healthcheck, stops and restarts it', async () => {
    const container = await docker.createContainer({
      name: `smoke-health-${process.pid}`,
      Image: image,
      Cmd: ['sleep', '3600'],
      // Short stop timeout: `sleep` as PID 1 ignores SIGTERM, so stop waits for the kill.
      StopTimeout: 1,
      Healthcheck: { Test: ['CMD', '/bin/true'], Interval: 1e9, Timeout: 1e9, Retries: 1 },
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await container.start();
      await waitFor(async () => (await container.inspect()).State.Health?.Status === 'healthy', {
        timeoutMs: 20_000,
        what: 'container to become healthy',
      });
      await container.stop();
      expect((await container.inspect()).State.Running).toBe(false);
      await container.start();
      expect((await container.inspect()).State.Running).toBe(true);
    } finally {
      await container.remove({ force: true });
    }
  });

  it('drives docker-compose v1: up, force-recreate, down', async () => {
    const dir = await makeTempDir('hl-compose');
    const env = { ...process.env, DOCKER_HOST: `unix://${inject('dockerSocket')}` };
    const compose = (...args: string[]) => execFileAsync('docker-compose', ['-p', 'smoke', ...args], { cwd: dir.path, env, timeout: 60_000 });
    const running = async () => (await docker.listContainers({ filters: { label: ['com.docker.compose.project=smoke'] } })).map((c) => c.Id);
    try {
      await fs.writeFile(
        path.join(dir.path, 'docker-compose.yml'),
        [
          'version: "2.4"',
          'services:',
          '  app:',
          `    image: ${image}`,
          '    command: sleep 3600',
          '    network_mode: none',
          '    stop_grace_period: 1s',
          '',
        ].join('\n'),
      );
      await compose('up', '-d');
      const first = await running();
      expect(first).toHaveLength(1);
      await compose('up', '-d', '--force-recreate');
      const second = await running();
      expect(second).toHaveLength(1);
      expect(second[0]).not.toBe(first[0]);
    } finally {
      await compose('down', '-t', '1').catch(() => undefined);
      await dir.cleanup();
    }
    expect(await running()).toHaveLength(0);
  });
});

describe('testkit: mosquitto', () => {
  let broker: MosquittoHandle | undefined;
  afterAll(async () => broker?.stop());

  async function roundTrip(url: string, payload: string): Promise<string> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000 });
    try {
      const received = new Promise<string>((resolve) => client.on('message', (_topic, msg) => resolve(msg.toString())));
      await client.subscribeAsync('smoke/#', { qos: 1 });
      await client.publishAsync('smoke/x', payload, { qos: 1 });
      return await received;
    } finally {
      await client.endAsync();
    }
  }

  it('publishes/subscribes, survives kill -9 and restart on the same port', async () => {
    broker = await startMosquitto();
    expect(await roundTrip(broker.url, 'one')).toBe('one');
    const url = broker.url;
    await broker.kill9();
    await expect(mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 1_000 })).rejects.toThrow();
    await broker.restart();
    expect(broker.url).toBe(url);
    expect(await roundTrip(broker.url, 'two')).toBe('two');
  });
});
