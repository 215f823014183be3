import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import mqtt from 'mqtt';
import { isAgentCredentialEnv, type ProbeSpec } from '@homelab/contracts';

/** What one probe run found: `ok`, or a one-line reason. */
export interface ProbeOutcome {
  ok: boolean;
  detail?: string;
}

/** Runs one probe; never throws, never takes (much) longer than `timeoutMs`. */
export type ProbeRunner = (probe: ProbeSpec, timeoutMs: number) => Promise<ProbeOutcome>;

/** Bytes of an HTTP body read for the `body` match; the rest is not downloaded. */
export const HTTP_BODY_LIMIT = 64 * 1024;

export interface ProbeSecrets {
  /** Where `passwordEnv` is looked up (process.env). */
  env: NodeJS.ProcessEnv;
  /** The agent's own broker password: never sent by a probe, whichever variable holds it. */
  agentSecret?: string;
}

/**
 * The password an mqtt probe may send, or why it may not send one. A probe's
 * URL is free, so a probe must never carry the agent's own broker credential
 * (docs/services-yaml.md): neither a variable the agent reads it from
 * (AGENT_CREDENTIAL_ENV, also refused by validation) nor any variable that
 * holds the same value. Pure.
 */
export function probePassword(passwordEnv: string | undefined, secrets: ProbeSecrets): { ok: true; password?: string } | { ok: false; detail: string } {
  if (passwordEnv === undefined) return { ok: true };
  const refused = { ok: false as const, detail: `passwordEnv ${passwordEnv} holds the agent's own broker credential; not sent` };
  if (isAgentCredentialEnv(passwordEnv)) return refused;
  const password = secrets.env[passwordEnv];
  if (password !== undefined && secrets.agentSecret !== undefined && password === secrets.agentSecret) return refused;
  return { ok: true, password };
}

/**
 * Probes over the network with Node's own clients (no fetch: undici would add
 * megabytes to the agent's footprint). Each run opens one connection and
 * closes it; a timeout destroys the socket, so nothing outlives the run.
 */
export function probeRunner(secrets: ProbeSecrets): ProbeRunner {
  return async (probe, timeoutMs) => {
    switch (probe.type) {
      case 'tcp':
        return tcpProbe(probe.host ?? '127.0.0.1', probe.port, timeoutMs);
      case 'http':
        return httpProbe(probe.url, probe.status, probe.body, timeoutMs);
      case 'mqtt': {
        const pw = probePassword(probe.passwordEnv, secrets);
        if (!pw.ok) return { ok: false, detail: `mqtt ${probe.url}: ${pw.detail}` };
        return mqttProbe(probe.url, probe.username, pw.password, timeoutMs);
      }
    }
  };
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (o: ProbeOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => done({ ok: false, detail: `tcp ${host}:${port}: no connection within ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => done({ ok: true }));
    socket.on('error', (err) => done({ ok: false, detail: `tcp ${host}:${port}: ${netMessage(err)}` }));
  });
}

function httpProbe(url: string, status: number | undefined, body: string | undefined, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(url, { headers: { 'user-agent': 'homelab-agent-probe', connection: 'close' }, agent: false });
    const done = (o: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => done({ ok: false, detail: `GET ${url}: no answer within ${timeoutMs} ms` }), timeoutMs);
    req.on('error', (err) => done({ ok: false, detail: `GET ${url}: ${netMessage(err)}` }));
    req.once('response', (res) => {
      const code = res.statusCode ?? 0;
      const statusOk = status === undefined ? code >= 200 && code < 400 : code === status;
      if (!statusOk) {
        res.resume();
        return done({ ok: false, detail: `GET ${url}: status ${code}${status === undefined ? '' : ` (expected ${status})`}` });
      }
      if (body === undefined) {
        res.resume();
        return done({ ok: true });
      }
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.includes(body)) done({ ok: true });
        else if (text.length >= HTTP_BODY_LIMIT)
          done({ ok: false, detail: `GET ${url}: body does not contain ${JSON.stringify(body)} (first ${HTTP_BODY_LIMIT} bytes)` });
      });
      res.once('end', () => done(text.includes(body) ? { ok: true } : { ok: false, detail: `GET ${url}: body does not contain ${JSON.stringify(body)}` }));
      res.on('error', (err) => done({ ok: false, detail: `GET ${url}: ${netMessage(err)}` }));
    });
  });
}

let probeClients = 0;

function mqttProbe(url: string, username: string | undefined, password: string | undefined, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const client = mqtt.connect(url, {
      clientId: `homelab-probe-${process.pid}-${++probeClients}`,
      username,
      password,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
      keepalive: 0,
      writeCache: false,
    });
    const done = (o: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end(true);
      resolve(o);
    };
    const timer = setTimeout(() => done({ ok: false, detail: `mqtt ${url}: no CONNACK within ${timeoutMs} ms` }), timeoutMs);
    client.once('connect', () => done({ ok: true }));
    client.on('error', (err) => done({ ok: false, detail: `mqtt ${url}: ${netMessage(err)}` }));
    client.once('close', () => done({ ok: false, detail: `mqtt ${url}: connection closed before CONNACK` }));
  });
}

/** Socket errors: the code says most (`ECONNREFUSED`); an AggregateError (happy eyeballs) has no message of its own. */
function netMessage(err: unknown): string {
  const e = err as Error & { code?: string; errors?: unknown[] };
  const msg = e?.message || (e?.errors?.[0] as Error | undefined)?.message || '';
  if (e?.code && !msg.includes(e.code)) return msg ? `${e.code} ${msg}` : e.code;
  return msg || String(err);
}
