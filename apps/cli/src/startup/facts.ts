import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { initialCredentialsPath } from '@homelab/hub';

/** Nodes with a `<hostsDir>/<node>/services.yaml`, sorted. */
export async function describedNodes(hostsDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(hostsDir);
  } catch {
    return [];
  }
  const found = await Promise.all(entries.map(async (n) => ((await fs.stat(path.join(hostsDir, n, 'services.yaml')).catch(() => null))?.isFile() ? n : null)));
  return found.filter((n): n is string => n !== null).sort();
}

/** True when something accepts a connection on the Docker socket within `timeoutMs`. */
export function dockerAnswers(socket: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = net.connect(socket);
    const done = (ok: boolean) => {
      conn.destroy();
      resolve(ok);
    };
    conn.setTimeout(timeoutMs, () => done(false));
    conn.once('connect', () => done(true));
    conn.once('error', () => done(false));
  });
}

/** The first start's credentials file, when it exists. */
export async function credentialsFileOf(root: string): Promise<string | null> {
  const file = initialCredentialsPath(root);
  return (await fs.stat(file).catch(() => null)) ? file : null;
}
