export type AgentErrorCode =
  | 'config_invalid'
  | 'state_corrupt'
  | 'io_failed'
  | 'docker_unreachable'
  | 'docker_failed'
  | 'not_found'
  | 'mqtt_unreachable';

/** The agent's one error type; `code` is what callers branch on. */
export class AgentError extends Error {
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AgentError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
