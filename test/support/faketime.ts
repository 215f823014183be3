import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where Debian's libfaketime (package `faketime`, see test/setup/ensure-deps.sh) puts its preload library. */
const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu/faketime', '/usr/lib/aarch64-linux-gnu/faketime', '/usr/lib/faketime', '/usr/local/lib/faketime'];

export function libfaketime(): string {
  const found = LIB_DIRS.map((d) => `${d}/libfaketime.so.1`).find((f) => fs.existsSync(f));
  if (!found) throw new Error(`libfaketime.so.1 not found in ${LIB_DIRS.join(', ')}: install the Debian package faketime`);
  return found;
}

/**
 * Environment that runs a process with its clock shifted by `offset` (libfaketime's
 * relative form, e.g. `+5h`, `-5h`): preloaded into that process only, so a real
 * `homelab agent` reads a skewed wall clock while the hub and the test keep the
 * real one. Relative, so time still flows and Node's timers keep working.
 */
export function faketimeEnv(offset: string): NodeJS.ProcessEnv {
  return { LD_PRELOAD: libfaketime(), FAKETIME: offset };
}

/** The shift a process started with `env` really sees, in ms (`date` under the same preload). */
export async function observedShiftMs(env: NodeJS.ProcessEnv): Promise<number> {
  const before = Date.now();
  const { stdout } = await run('date', ['+%s%3N'], { env: { ...process.env, ...env } });
  return Number(stdout.trim()) - (before + Date.now()) / 2;
}
