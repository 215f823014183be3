import { CodedError, type Registered } from '@homelab/contracts';

/** The hub's codes, from the one registry (libs/contracts errors.ts). */
export type HubErrorCode = Registered<
  'config_invalid' | 'data_root_newer' | 'port_in_use' | 'broker_unreachable' | 'not_found' | 'conflict' | 'invalid_request'
>;

/** The hub's one error type; `code` is what callers branch on. */
export class HubError extends CodedError<HubErrorCode> {
  override name = 'HubError';
}
