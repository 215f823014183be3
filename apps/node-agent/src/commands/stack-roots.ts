import fs from 'node:fs/promises';
import path from 'node:path';

/** True when `file` lies inside one of `roots` (all absolute and normalized). Pure. */
export function underStackRoots(file: string, roots: readonly string[]): boolean {
  return roots.some((root) => file.startsWith(`${root}/`));
}

/**
 * Why `redeploy` must not run this compose file, or null when it may. The
 * file must lie under a stack root (HOMELAB_STACK_ROOTS, docs/security.md)
 * both as written and once symbolic links are resolved, so a link inside a
 * stack folder cannot point compose at a file elsewhere. A file that does not
 * exist passes: compose reports it missing and reads nothing.
 */
export async function composeFileRefusal(file: string, roots: readonly string[]): Promise<string | null> {
  const allowed = `allowed: ${roots.join(', ')}; set HOMELAB_STACK_ROOTS on the agent to change it`;
  if (path.posix.normalize(file) !== file || !underStackRoots(file, roots)) return `compose file ${file} is outside the agent's stack roots (${allowed})`;
  let real: string;
  try {
    real = await fs.realpath(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return `cannot check compose file ${file}: ${(err as Error).message}`;
  }
  const realRoots = await Promise.all(roots.map((r) => fs.realpath(r).catch(() => r)));
  if (!underStackRoots(real, realRoots)) return `compose file ${file} resolves to ${real}, outside the agent's stack roots (${allowed})`;
  return null;
}
