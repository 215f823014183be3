import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** argv joined with spaces. */
  cmdline: string;
}

/** Snapshot of all processes from /proc (Linux only). */
export async function listProcesses(): Promise<ProcInfo[]> {
  const entries = await fs.readdir('/proc');
  const out: ProcInfo[] = [];
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        try {
          const [cmd, stat] = await Promise.all([fs.readFile(`/proc/${e}/cmdline`, 'utf8'), fs.readFile(`/proc/${e}/stat`, 'utf8')]);
          // Field 4 of stat is the ppid; the comm field (2) may contain spaces, so split after ')'.
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          out.push({ pid: Number(e), ppid, cmdline: cmd.split('\0').join(' ').trim() });
        } catch {
          // process vanished while scanning
        }
      }),
  );
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * SIGKILLs every matching process together with all its descendants.
 * Descendants matter for containerd shims: killing only the shim would orphan the
 * container's init process (and with it the whole container).
 */
export async function killMatching(match: (p: ProcInfo) => boolean): Promise<number[]> {
  const procs = await listProcesses();
  const children = new Map<number, number[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const victims = new Set<number>();
  const visit = (pid: number) => {
    if (pid === process.pid || victims.has(pid)) return;
    victims.add(pid);
    for (const c of children.get(pid) ?? []) visit(c);
  };
  for (const p of procs) if (match(p)) visit(p.pid);
  // Deepest first is not needed with SIGKILL; kill all, ignoring races.
  for (const pid of victims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return [...victims];
}

/** Lazily unmounts everything mounted below `dir` (e.g. netns bind mounts), deepest first. */
export async function unmountUnder(dir: string): Promise<void> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const info = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => !!p && p.startsWith(prefix))
    .map((p) => p.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
  for (const p of points) {
    await execFileAsync('umount', ['-l', p]).catch(() => undefined);
  }
}
