import { CodedError, type Registered } from '@homelab/contracts';

/** The agent's codes, from the one registry (libs/contracts errors.ts). */
export type AgentErrorCode = Registered<
  'config_invalid' | 'state_corrupt' | 'data_root_newer' | 'io_failed' | 'docker_unreachable' | 'docker_failed' | 'not_found' | 'mqtt_unreachable'
>;

/** The agent's one error type; `code` is what callers branch on. */
export class AgentError extends CodedError<AgentErrorCode> {
  override name = 'AgentError';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
