import type { z } from 'zod';
import type { ConfigProblem } from '@homelab/contracts';

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** Problems are shown to every viewer (/summary): a key from the file is quoted at most this long. */
const SHOWN_KEY_MAX = 64;
const SHOWN_KEYS_MAX = 5;

/** A key of the file as a problem quotes it: JSON-escaped and cut to SHOWN_KEY_MAX characters. */
export function quoteKey(key: PropertyKey): string {
  const text = String(key);
  return JSON.stringify(text.length > SHOWN_KEY_MAX ? `${text.slice(0, SHOWN_KEY_MAX)}…` : text);
}

/** `['services', 'zigbee2mqtt', 'containers', 0]` → `services.zigbee2mqtt.containers[0]`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && PLAIN_KEY.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${quoteKey(seg)}]`;
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
      return { file, path, message: `invalid name ${quoteKey(key ?? '')}: ${inner}` };
    }
    if (issue.code === 'unrecognized_keys') {
      const shown = issue.keys.slice(0, SHOWN_KEYS_MAX).map(quoteKey).join(', ');
      const more = issue.keys.length > SHOWN_KEYS_MAX ? ` and ${issue.keys.length - SHOWN_KEYS_MAX} more` : '';
      return { file, path, message: `Unrecognized key${issue.keys.length === 1 ? '' : 's'}: ${shown}${more}` };
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
  const head =
    `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}` +
    ' (the last valid version of each stays in force):';
  return [head, ...lines.map((l) => `  ${l}`)].join('\n');
}
