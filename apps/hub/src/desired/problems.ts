import type { z } from 'zod';
import type { ConfigProblem } from '@homelab/contracts';

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['services', 'zigbee2mqtt', 'containers', 0]` → `services.zigbee2mqtt.containers[0]`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && PLAIN_KEY.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** One problem per zod issue, with the message an operator can act on. */
export function problemsFromIssues(file: string, issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  return issues.map((issue) => {
    const path = formatPath(issue.path);
    if (issue.code === 'invalid_key') {
      const key = issue.path.at(-1);
      const inner = issue.issues.map((i) => i.message).join('; ');
      return { file, path, message: `invalid name ${JSON.stringify(String(key))}: ${inner}` };
    }
    if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) {
      return { file, path, message: `missing: a ${issue.expected} is required here` };
    }
    return { file, path, message: issue.message };
  });
}

/**
 * Text for `homelab validate` and logs: one line per problem,
 * `hosts/piha/services.yaml: services.zigbee2mqtt.containers[0]: must be a Docker container name`.
 */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  if (problems.length === 0) return 'no problems';
  const lines = problems.map((p) => (p.path ? `${p.file}: ${p.path}: ${p.message}` : `${p.file}: ${p.message}`));
  const files = new Set(problems.map((p) => p.file)).size;
  const head = `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}` +
    ' (the last valid version of each stays in force):';
  return [head, ...lines.map((l) => `  ${l}`)].join('\n');
}
