import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface TempDir {
  path: string;
  /** Removes the directory recursively; safe to call twice. */
  cleanup(): Promise<void>;
}

/**
 * Creates a fresh directory. `base` defaults to os.tmpdir(); pass '/tmp' where
 * unix socket paths must stay short (the kernel limit is ~108 bytes).
 */
export async function makeTempDir(prefix: string, base = os.tmpdir()): Promise<TempDir> {
  const dir = await fs.mkdtemp(path.join(base, prefix.endsWith('-') ? prefix : `${prefix}-`));
  return { path: dir, cleanup: () => removeDir(dir) };
}

export async function removeDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
