import fs from 'node:fs/promises';
import path from 'node:path';
import { canConnect, freePort } from './ports';
import { spawnLogged, type LoggedProcess } from './process';
import { makeTempDir } from './tmp';
import { sleep } from './wait';

export interface MosquittoOptions {
  /** Default: a free loopback port. Kept across restart() so clients can reconnect. */
  port?: number;
  /** Appended to the generated config. If it sets allow_anonymous, ours is dropped. */
  extraConfig?: string;
}

export interface MosquittoHandle {
  port: number;
  url: string;
  dir: string;
  logFile: string;
  /** Graceful stop (SIGTERM), then deletes the temp dir (config + log). restart() still works. */
  stop(): Promise<void>;
  /** Simulates a crash: SIGKILL, no cleanup by the broker. */
  kill9(): Promise<void>;
  /** Stops if running, then starts again on the same port and config. */
  restart(): Promise<void>;
}

/** Runs a real mosquitto broker bound to 127.0.0.1 only. */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoHandle> {
  const tmp = await makeTempDir('hl-mqtt');
  const logFile = path.join(tmp.path, 'mosquitto.log');
  const confFile = path.join(tmp.path, 'mosquitto.conf');
  let port = opts.port ?? (await freePort());
  let proc: LoggedProcess | undefined;

  const writeConfig = async () => {
    await fs.mkdir(tmp.path, { recursive: true }); // stop() may have removed it
    const extra = opts.extraConfig ?? '';
    const lines = [
      `listener ${port} 127.0.0.1`,
      /^\s*allow_anonymous\b/m.test(extra) ? '' : 'allow_anonymous true',
      'persistence false',
      // As root, mosquitto would otherwise drop to user "mosquitto" and lose access to our 0700 temp dir.
      'user root',
      `log_dest file ${logFile}`,
      'log_type all',
      'connection_messages true',
      extra,
    ];
    await fs.writeFile(confFile, lines.filter(Boolean).join('\n') + '\n');
  };

  const launch = async (): Promise<void> => {
    // Retry with a fresh port only when we picked it ourselves (freePort is racy).
    for (let attempt = 1; ; attempt++) {
      await writeConfig();
      const logOffset = await fs.stat(logFile).then(
        (st) => st.size,
        () => 0,
      );
      proc = spawnLogged('mosquitto', ['-c', confFile], { maxBufferBytes: 32 * 1024 });
      const up = await waitListening(proc, port, logFile, logOffset);
      if (up) return;
      const why = `mosquitto on port ${port} did not start:\n${proc.output()}${await fs.readFile(logFile, 'utf8').catch(() => '')}`;
      await proc.stop(2_000);
      if (opts.port !== undefined || attempt >= 3) throw new Error(why);
      port = await freePort();
    }
  };

  const stopWith = async (signal: 'SIGTERM' | 'SIGKILL') => {
    if (!proc?.running) return;
    if (signal === 'SIGKILL') {
      proc.kill('SIGKILL');
      await proc.exited;
    } else await proc.stop(5_000);
  };

  await launch().catch(async (err: unknown) => {
    await tmp.cleanup();
    throw err;
  });
  const handle: MosquittoHandle = {
    get port() {
      return port;
    },
    get url() {
      return `mqtt://127.0.0.1:${port}`;
    },
    dir: tmp.path,
    logFile,
    async stop() {
      await stopWith('SIGTERM');
      await tmp.cleanup();
    },
    kill9: () => stopWith('SIGKILL'),
    async restart() {
      await stopWith('SIGTERM');
      const requested = opts.port;
      opts.port = port; // a restart must keep the port clients know
      try {
        await launch();
      } finally {
        opts.port = requested;
      }
    },
  };
  return handle;
}

/**
 * A TCP connect alone is not proof: with a port taken by someone else the connect
 * succeeds while our broker is about to exit with "Address already in use". Mosquitto
 * logs "… running" only after all listeners are bound, so wait for that line too.
 */
async function waitListening(proc: LoggedProcess, port: number, logFile: string, logOffset: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.running) return false;
    const log = await fs.readFile(logFile, 'utf8').catch(() => '');
    if (/mosquitto version \S+ running/.test(log.slice(logOffset)) && (await canConnect(port))) return proc.running;
    await sleep(50);
  }
  return false;
}
