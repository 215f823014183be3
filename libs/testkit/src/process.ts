import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sleep } from './wait';

export interface SpawnLoggedOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Everything the child prints is appended here (parent dirs are created). */
  logFile?: string;
  /** Bytes of combined stdout+stderr kept in memory for output(). */
  maxBufferBytes?: number;
  /** Sent to the child if the test runner exits while it still runs. Default SIGKILL. */
  signalOnParentExit?: NodeJS.Signals;
}

export interface LoggedProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code, or null when the process died from a signal. */
  exited: Promise<number | null>;
  /** Tail of combined stdout+stderr. */
  output(): string;
  /** Sends a signal if the process is still alive. */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** Waits until the output matches `pattern`; fails early if the process exits. */
  waitForOutput(pattern: RegExp | string, timeoutMs?: number): Promise<void>;
  readonly running: boolean;
}

// Children still alive when the test runner exits get SIGKILLed, so a crashed
// or interrupted run does not leave hubs/agents/brokers behind.
const live = new Map<ChildProcess, NodeJS.Signals>();
let exitHookInstalled = false;
function trackForExit(child: ChildProcess, signal: NodeJS.Signals): void {
  live.set(child, signal);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [c, signal] of live) {
      try {
        c.kill(signal);
      } catch {
        // already gone
      }
    }
  });
}

export function spawnLogged(cmd: string, args: string[], opts: SpawnLoggedOptions = {}): LoggedProcess {
  const maxBuffer = opts.maxBufferBytes ?? 256 * 1024;
  let buffer = '';
  let log: fs.WriteStream | undefined;
  if (opts.logFile) {
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    log = fs.createWriteStream(opts.logFile, { flags: 'a' });
  }

  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackForExit(child, opts.signalOnParentExit ?? 'SIGKILL');

  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    buffer += text;
    if (buffer.length > maxBuffer) buffer = buffer.slice(buffer.length - maxBuffer);
    log?.write(chunk);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    // 'close' (not 'exit') so all output is captured before we resolve.
    child.once('close', (code) => {
      exitCode = code;
      if (log) log.end(() => resolve(code));
      else resolve(code);
    });
    child.once('error', (err) => {
      onData(Buffer.from(`[spawnLogged] failed to start ${cmd}: ${err.message}\n`));
      exitCode = null;
      if (log) log.end(() => resolve(null));
      else resolve(null);
    });
  });

  const handle: LoggedProcess = {
    child,
    pid: child.pid ?? -1,
    exited,
    output: () => buffer,
    get running() {
      return exitCode === undefined && child.exitCode === null && child.signalCode === null;
    },
    kill(signal = 'SIGTERM') {
      if (handle.running) child.kill(signal);
    },
    async stop(timeoutMs = 10_000) {
      handle.kill('SIGTERM');
      const timer = setTimeout(() => handle.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async waitForOutput(pattern, timeoutMs = 30_000) {
      const matches = () => (typeof pattern === 'string' ? buffer.includes(pattern) : pattern.test(buffer));
      const deadline = Date.now() + timeoutMs;
      // Own loop instead of waitFor(): an exited process must fail fast, not be retried.
      while (!matches()) {
        const why = !handle.running
          ? `${cmd} exited (${String(exitCode ?? child.exitCode ?? child.signalCode)})`
          : Date.now() > deadline
            ? `timed out after ${timeoutMs}ms`
            : undefined;
        if (why) {
          throw new Error(`${why} waiting for output ${String(pattern)}\n--- output tail ---\n${buffer.slice(-4000)}`);
        }
        await sleep(50);
      }
    },
  };
  return handle;
}
