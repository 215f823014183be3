export type HubErrorCode =
  | 'config_invalid'
  | 'port_in_use'
  | 'broker_unreachable'
  | 'not_found'
  | 'conflict'
  | 'invalid_request';

/** The hub's one error type; `code` is what callers branch on. */
export class HubError extends Error {
  constructor(
    readonly code: HubErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HubError';
  }
}
