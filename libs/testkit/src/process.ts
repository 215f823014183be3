import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sleep } from './wait';

export interface SpawnLoggedOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * The child's stdout+stderr go straight into this file (appended; parent dirs
   * are created). Writing to a file rather than a pipe means the child never dies
   * of SIGPIPE when the runner goes away, so it can still shut down gracefully.
   */
  logFile?: string;
  /** Bytes of output kept for output(). Default 256 KiB. */
  maxBufferBytes?: number;
  /**
   * Sent to the child if the test runner exits while the child still runs — also
   * when the runner is SIGKILLed (via a watchdog process). Default SIGKILL.
   */
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

// Children still alive when the runner exits normally get signalled here;
// startWatchdog() covers the runner being killed outright.
const live = new Map<ChildProcess, NodeJS.Signals>();
let exitHookInstalled = false;
function trackForExit(child: ChildProcess, signal: NodeJS.Signals): void {
  live.set(child, signal);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [c, sig] of live) {
      try {
        c.kill(sig);
      } catch {
        // already gone
      }
    }
  });
}

/**
 * Node cannot set PR_SET_PDEATHSIG, and 'exit' hooks do not run on SIGKILL, so a
 * detached shell polls both pids and signals the child once this process is gone.
 */
function startWatchdog(childPid: number, signal: NodeJS.Signals): void {
  const script = 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; ' + 'kill -0 "$1" 2>/dev/null || kill -s "$3" "$2" 2>/dev/null';
  const args = ['-c', script, 'watchdog', String(process.pid), String(childPid), signal.replace(/^SIG/, '')];
  const dog = spawn('sh', args, { detached: true, stdio: 'ignore' });
  dog.on('error', () => undefined);
  dog.unref();
}

/** The last `maxBytes` of what was written to `file` from offset `from` on (this process's own output). */
function readTail(file: string, maxBytes: number, from: number): string {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const len = Math.max(0, Math.min(size - from, maxBytes));
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export function spawnLogged(cmd: string, args: string[], opts: SpawnLoggedOptions = {}): LoggedProcess {
  const maxBuffer = opts.maxBufferBytes ?? 256 * 1024;
  const { logFile } = opts;
  let buffer = '';
  let logFd: number | undefined;
  /** Where this process's output starts in the log file: output() never shows an earlier run's lines. */
  let logStart = 0;
  if (logFile) {
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    logFd = fs.openSync(logFile, 'a');
    logStart = fs.fstatSync(logFd).size;
  }

  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: logFd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', logFd, logFd],
  });
  if (logFd !== undefined) fs.closeSync(logFd); // the child holds its own copy

  const note = (text: string) => {
    if (logFile) fs.appendFileSync(logFile, text);
    else buffer += text;
  };
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    if (buffer.length > maxBuffer) buffer = buffer.slice(buffer.length - maxBuffer);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  const parentExitSignal = opts.signalOnParentExit ?? 'SIGKILL';
  trackForExit(child, parentExitSignal);
  if (child.pid !== undefined) startWatchdog(child.pid, parentExitSignal);

  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    // 'close' (not 'exit') so piped output is fully captured before resolving.
    child.once('close', (code) => {
      exitCode = code;
      resolve(code);
    });
    child.once('error', (err) => {
      note(`[spawnLogged] failed to start ${cmd}: ${err.message}\n`);
      exitCode = null;
      resolve(null);
    });
  });

  const output = () => (logFile ? readTail(logFile, maxBuffer, logStart) : buffer);
  const handle: LoggedProcess = {
    child,
    pid: child.pid ?? -1,
    exited,
    output,
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
      const matches = () => {
        const out = output();
        return typeof pattern === 'string' ? out.includes(pattern) : pattern.test(out);
      };
      const deadline = Date.now() + timeoutMs;
      // Own loop instead of waitFor(): an exited process must fail fast, not be retried.
      while (!matches()) {
        const why = !handle.running
          ? `${cmd} exited (${String(exitCode ?? child.exitCode ?? child.signalCode)})`
          : Date.now() > deadline
            ? `timed out after ${timeoutMs}ms`
            : undefined;
        if (why) {
          throw new Error(`${why} waiting for output ${String(pattern)}\n--- output tail ---\n${output().slice(-4000)}`);
        }
        await sleep(50);
      }
    },
  };
  return handle;
}
