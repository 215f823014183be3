import { execFile } from 'node:child_process';
import { ComposeSpec, ServiceName } from '@homelab/contracts';

/** Bytes of compose output kept for the result (the tail: errors come last). */
export const COMPOSE_OUTPUT_TAIL = 8 * 1024;

export interface ComposeInvocation {
  /** Program to exec (never a shell): `docker-compose` or `docker`. */
  file: string;
  args: string[];
}

/**
 * `docker-compose -f <file> -p <project> up -d --force-recreate [--build] <service>`
 * (or `docker compose …` for v2). Pure. The spec is parsed again here, so a
 * name that does not match NAME_PATTERN or a relative/`..` path never reaches argv.
 */
export function composeRedeployArgv(serviceName: string, rawSpec: unknown): ComposeInvocation {
  const spec = ComposeSpec.parse(rawSpec);
  const service = ServiceName.parse(spec.service ?? serviceName);
  const tail = ['-f', spec.file, '-p', spec.project, 'up', '-d', '--force-recreate', ...(spec.build ? ['--build'] : []), '--', service];
  return spec.command === 'docker compose' ? { file: 'docker', args: ['compose', ...tail] } : { file: 'docker-compose', args: tail };
}

export interface ComposeOutcome {
  ok: boolean;
  /** Exit code, or null when killed (timeout) or it could not start. */
  exitCode: number | null;
  timedOut: boolean;
  /** Last COMPOSE_OUTPUT_TAIL bytes of stdout+stderr (interleaved as they arrived). */
  output: string;
  /** Set when the program could not be started (e.g. ENOENT). */
  spawnError?: string;
}

/** Runs a compose invocation; never throws. */
export type ComposeRunner = (inv: ComposeInvocation, opts: { env: NodeJS.ProcessEnv; timeoutMs: number }) => Promise<ComposeOutcome>;

/** Keeps only the last `max` characters appended. */
class Tail {
  private buf = '';
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    this.buf += chunk;
    if (this.buf.length > this.max * 2) this.buf = this.buf.slice(-this.max);
  }
  text(): string {
    return this.buf.length > this.max ? this.buf.slice(-this.max) : this.buf;
  }
}

/** The environment compose runs with: the agent's, with DOCKER_HOST pointing at the agent's Docker socket. */
export function composeEnv(base: NodeJS.ProcessEnv, dockerSocket: string): NodeJS.ProcessEnv {
  return { ...base, DOCKER_HOST: `unix://${dockerSocket}`, COMPOSE_INTERACTIVE_NO_CLI: '1' };
}

/** child_process.execFile with an argv array (no shell), a timeout (SIGKILL) and an output tail. */
export const execFileCompose: ComposeRunner = (inv, opts) =>
  new Promise((resolve) => {
    const tail = new Tail(COMPOSE_OUTPUT_TAIL);
    let child: ReturnType<typeof execFile>;
    try {
      child = execFile(inv.file, inv.args, {
        env: opts.env,
        shell: false,
        timeout: opts.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
        windowsHide: true,
      });
    } catch (err) {
      // execFile throws before spawning on arguments it refuses (a NUL byte): a failed result, never a crash.
      resolve({ ok: false, exitCode: null, timedOut: false, output: '', spawnError: (err as Error).message });
      return;
    }
    child.stdout?.setEncoding('utf8').on('data', (c: string) => tail.push(c));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => tail.push(c));
    let settled = false;
    const settle = (o: ComposeOutcome) => {
      if (!settled) resolve(o);
      settled = true;
    };
    // A program that cannot start (ENOENT) emits 'error' and may never emit 'close'.
    child.on('error', (err) => {
      if (child.pid === undefined) settle({ ok: false, exitCode: null, timedOut: false, output: tail.text(), spawnError: err.message });
    });
    child.on('close', (code, signal) => {
      settle({ ok: code === 0, exitCode: code, timedOut: code === null && signal === 'SIGKILL', output: tail.text() });
    });
  });
