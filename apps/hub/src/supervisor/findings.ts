import { z } from 'zod';

/** Why a pending action was moved to `cancelled/` (docs/supervisor.md, "Rules"). */
export const CancelReason = z.enum(['drift_resolved_auto', 'service_removed_from_desired_state']);
export type CancelReason = z.infer<typeof CancelReason>;

export { Finding, FindingKind } from '@homelab/contracts';
