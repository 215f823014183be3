import type { TestProject } from 'vitest/node';
import { ensureBusyboxImage, startDockerd } from '@homelab/testkit';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the shared test dockerd's unix socket (use with `new Docker({ socketPath })`). */
    dockerSocket: string;
    /** Tag of the locally built busybox image (no registry is reachable). */
    busyboxImage: string;
  }
}

/**
 * One private dockerd for the whole e2e run: starting one takes seconds (and with the vfs
 * storage driver, where overlay2 is refused, images are copied per container), so sharing it
 * keeps the suite fast.
 * Tests must clean up their own containers (stop() force-removes leftovers anyway).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const dockerd = await startDockerd();
  try {
    const image = await ensureBusyboxImage(dockerd.docker);
    project.provide('dockerSocket', dockerd.socketPath);
    project.provide('busyboxImage', image);
  } catch (err) {
    await dockerd.stop();
    throw err;
  }
  console.log(`[e2e global setup] dockerd (${dockerd.storageDriver}) at ${dockerd.socketPath} ready in ${Date.now() - started}ms`);
  return () => dockerd.stop();
}
