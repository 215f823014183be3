/**
 * Every error code of the hub, the action store and the agent, declared once
 * with the HTTP status it answers with and what it means (docs/ui-api.md,
 * "Errors"). Each program keeps its own error type (HubError, AgentError,
 * ActionStoreError) over a subset of these codes; the web server turns any of
 * them into `{ error: code, message }` with the status found here.
 */
export const ERRORS = {
  // Requests (the UI/API's answers).
  invalid_request: { status: 400, meaning: 'the query or body does not fit the route' },
  invalid_id: { status: 400, meaning: 'not a valid action id' },
  unauthorized: { status: 401, meaning: 'no valid session or token' },
  forbidden: { status: 403, meaning: 'the role may not do this' },
  csrf: { status: 403, meaning: 'cross-site request, or missing or wrong CSRF token' },
  not_found: { status: 404, meaning: 'no such thing' },
  conflict: { status: 409, meaning: 'it changed meanwhile' },
  invalid_transition: { status: 409, meaning: 'the action is not in a state that allows this' },
  rate_limited: { status: 429, meaning: 'too many failed logins' },
  // Storage and processes.
  io: { status: 500, meaning: 'the action store could not read or write a file' },
  io_failed: { status: 500, meaning: 'the agent could not read or write its state' },
  state_corrupt: { status: 500, meaning: "the agent's state files do not parse" },
  config_invalid: { status: 500, meaning: 'a setting or configuration file is wrong' },
  data_root_newer: { status: 500, meaning: 'a file in the data root has a format version this program does not know; it starts nothing and touches nothing' },
  port_in_use: { status: 500, meaning: 'a port the hub listens on is taken' },
  broker_unreachable: { status: 503, meaning: 'the MQTT broker cannot be reached' },
  mqtt_unreachable: { status: 503, meaning: 'the MQTT broker cannot be reached' },
  docker_unreachable: { status: 503, meaning: 'the Docker engine cannot be reached' },
  docker_failed: { status: 502, meaning: 'the Docker engine refused or failed a call' },
  mirror_empty: { status: 503, meaning: 'the mirror has no copy of the hub yet (or its files do not parse)' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** A program's subset of the codes; a code not in the registry does not compile. */
export type Registered<C extends ErrorCode> = C;

/** The HTTP status of a code. */
export const httpStatusOf = (code: ErrorCode): number => ERRORS[code].status;

/** The one body of an error answer. */
export interface ErrorBody {
  error: ErrorCode;
  message: string;
}

/**
 * The base of each program's error type: a registered code (what callers
 * branch on) and a message written for operators.
 */
export abstract class CodedError<C extends ErrorCode = ErrorCode> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get status(): number {
    return httpStatusOf(this.code);
  }

  toBody(): ErrorBody {
    return { error: this.code, message: this.message };
  }
}
