import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_NODE_FLAGS } from '../../deploy/agent-bundle.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The exec-form ENTRYPOINT of a Dockerfile, as its JSON array. */
function entrypointOf(dockerfile: string): string[] {
  const line = fs
    .readFileSync(path.join(ROOT, dockerfile), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('ENTRYPOINT '));
  return JSON.parse(line!.slice('ENTRYPOINT '.length)) as string[];
}

describe("the agent's Node flags", () => {
  it('are the same in the agent image as in AGENT_NODE_FLAGS, which the checkout and the benchmark use', () => {
    expect(entrypointOf('deploy/agent.Dockerfile')).toEqual(['node', ...AGENT_NODE_FLAGS, '/app/homelab-agent.mjs']);
  });
});
