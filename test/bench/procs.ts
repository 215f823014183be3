import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { canConnect, freePort, sleep, spawnLogged, type LoggedProcess } from '@homelab/testkit';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(REPO_ROOT, 'apps/cli/bin/homelab.mjs');

/** Runs a TS file of this folder in a child node process (tsx loader). */
export function nodeArgs(script: string, args: string[]): string[] {
  return ['--import', 'tsx', path.join(import.meta.dirname, script), ...args];
}

export interface BenchMosquitto {
  pid: number;
  port: number;
  url: string;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * A Mosquitto for measuring: like testkit's startMosquitto but without
 * per-message debug logging (which would slow the broker down), and with an
 * unbounded per-client queue so a slow subscriber never loses QoS 1 messages
 * (the default of 1000 would drop them, and the run could not finish).
 */
export async function startBenchMosquitto(dir: string): Promise<BenchMosquitto> {
  await fs.mkdir(dir, { recursive: true });
  const port = await freePort();
  const logFile = path.join(dir, 'mosquitto.log');
  const conf = path.join(dir, 'mosquitto.conf');
  await fs.writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'user root',
      `log_dest file ${logFile}`,
      'log_type error',
      'log_type warning',
      'log_type subscribe',
      'max_queued_messages 0',
      '',
    ].join('\n'),
  );
  const proc = spawnLogged('mosquitto', ['-c', conf], { maxBufferBytes: 16 * 1024 });
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (!proc.running || Date.now() > deadline) throw new Error(`mosquitto did not start: ${proc.output()}`);
    await sleep(20);
  }
  return { pid: proc.pid, port, url: `mqtt://127.0.0.1:${port}`, logFile, stop: async () => void (await proc.stop(5_000)) };
}

/** Waits until `file` contains `text`. */
export async function waitForFileText(file: string, text: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await fs.readFile(file, 'utf8').catch(() => '');
    if (s.includes(text)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(text)} in ${file}`);
    await sleep(20);
  }
}

export interface JsonLineProcess {
  child: ChildProcess;
  /** Next stdout line that is a JSON object with `key`; rejects if the process exits first. */
  waitFor<T = Record<string, unknown>>(key: string, timeoutMs?: number): Promise<T>;
  send(line: string): void;
  exited: Promise<number | null>;
  stderr(): string;
  kill(): void;
}

/** A child speaking JSON lines on stdout (the publisher, the replay worker). */
export function spawnJsonLines(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): JsonLineProcess {
  const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8000);
  });
  const seen: Record<string, unknown>[] = [];
  const waiters: { key: string; resolve: (v: never) => void }[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    seen.push(o);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.key in o) waiters.splice(i, 1)[0]!.resolve(o as never);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    stderr: () => err,
    send: (line) => void child.stdin!.write(`${line}\n`),
    kill: () => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')),
    waitFor<T>(key: string, timeoutMs = 120_000): Promise<T> {
      const have = seen.find((o) => key in o);
      if (have) return Promise.resolve(have as T);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for "${key}" from ${args.join(' ')}\n${err}`)), timeoutMs);
        void exited.then((code) =>
          setTimeout(() => {
            clearTimeout(timer);
            reject(new Error(`process exited (${code}) before "${key}": ${args.join(' ')}\n${err}`));
          }, 50),
        );
        waiters.push({
          key,
          resolve: (v: never) => {
            clearTimeout(timer);
            resolve(v as T);
          },
        });
      });
    },
  };
}

export function spawnHub(args: string[], logFile: string, env: NodeJS.ProcessEnv = {}): LoggedProcess {
  // BENCH_HUB_NODE_ARGS: extra node flags for the hub, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` (NODE_OPTIONS refuses --cpu-prof).
  const nodeFlags = (process.env.BENCH_HUB_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return spawnLogged(process.execPath, [...nodeFlags, CLI, 'hub', ...args], { cwd: REPO_ROOT, env: { ...process.env, LOG_LEVEL: 'info', ...env }, logFile });
}

/** Lines in every `events/*\/<stream>.jsonl` below root, per stream. */
export async function countStoredLines(root: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const eventsDir = path.join(root, 'events');
  for (const day of await fs.readdir(eventsDir).catch(() => [] as string[])) {
    for (const f of await fs.readdir(path.join(eventsDir, day))) {
      if (!f.endsWith('.jsonl')) continue;
      const buf = await fs.readFile(path.join(eventsDir, day, f));
      let n = 0;
      for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
      const stream = f.slice(0, -'.jsonl'.length);
      out.set(stream, (out.get(stream) ?? 0) + n);
    }
  }
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const CLK_TCK = 100;

/** CPU time (user + system) a process has used so far, in ms (Linux /proc), or 0 once it is gone. */
export async function cpuMsOf(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are 12 and 13 after the comm field.
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}

/**
 * `homelab hub` arguments for a data root and hosts folder on free ports: through the broker at
 * `mqttUrl` (`--mqtt-url`), or with the embedded broker on a port of its own.
 */
export async function hubArgs(root: string, hosts: string, mqttUrl?: string): Promise<{ args: string[]; url: string; httpPort: number }> {
  const httpPort = await freePort();
  const args = ['--root', root, '--hosts', hosts, '--http-port', String(httpPort)];
  if (mqttUrl) return { args: [...args, '--mqtt-url', mqttUrl], url: mqttUrl, httpPort };
  const port = await freePort();
  return { args: [...args, '--mqtt-port', String(port)], url: `mqtt://127.0.0.1:${port}`, httpPort };
}
