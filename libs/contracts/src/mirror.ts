import { z } from 'zod';
import { IsoTime } from './names';
import { Summary } from './summary';

/** `<dir>/mirror-status.json`, written by every pass of `homelab mirror` (docs/ui-api.md, "Mirror"). */
export const MirrorStatus = z.object({
  /** The hub copied from (its URL). */
  hub: z.string(),
  ok: z.boolean(),
  lastAttempt: IsoTime,
  /** Time of the last successful copy; the files in the folder are from then. */
  lastSuccess: IsoTime.nullable(),
  error: z.string().optional(),
});
export type MirrorStatus = z.infer<typeof MirrorStatus>;

/** `GET /summary` of the mirror's own page (`homelab mirror --serve`): the hub's summary as copied, and where and when from. */
export const MirrorSummary = Summary.extend({
  mirror: MirrorStatus.extend({ readOnly: z.literal(true), ageSeconds: z.number().int().nonnegative().nullable() }),
});
export type MirrorSummary = z.infer<typeof MirrorSummary>;
