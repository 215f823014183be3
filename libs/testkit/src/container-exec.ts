import type Docker from 'dockerode';

/** Runs `sh -c <script>` in a running container and resolves once it has finished (its output is drained, not kept). */
export async function shInContainer(docker: Docker, name: string, script: string): Promise<void> {
  const exec = await docker.getContainer(name).exec({ Cmd: ['sh', '-c', script], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  await new Promise<void>((resolve) => {
    stream.on('end', () => resolve());
    stream.resume();
  });
}
