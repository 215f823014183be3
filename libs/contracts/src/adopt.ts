import { z } from 'zod';
import { ContainerName, NodeName, ServiceName } from './names';
import { ConfigProblem } from './summary';

/** One service `homelab adopt` drafts (docs/services-yaml.md, "Adopting what runs"). */
export const AdoptedService = z.object({
  name: ServiceName,
  containers: z.array(ContainerName),
  compose: z.object({ file: z.string(), project: z.string(), service: z.string().optional(), command: z.literal('docker compose').optional() }).optional(),
  /** Why no `compose:` block was drafted (redeploy then cannot recreate the service). */
  composeMissing: z.string().optional(),
  healthcheck: z.boolean(),
  image: z.string().optional(),
});
export type AdoptedService = z.infer<typeof AdoptedService>;

/** `GET /api/nodes/<node>/adopt`: the draft, and what it changes in the current file. */
export const AdoptDraftView = z.object({
  node: NodeName,
  /** `hosts/<node>/services.yaml`, relative to the hub's hosts folder's parent. */
  file: z.string(),
  /** The file as it would be written. */
  text: z.string(),
  /** A fingerprint of the current file (`none`: no file); POST must name it, so a file edited meanwhile is never overwritten. */
  baseRevision: z.string(),
  /** Unified diff, current → draft; empty when the draft changes nothing. */
  diff: z.string(),
  added: z.array(AdoptedService),
  /** With force: services of the current file the draft replaces. */
  replaced: z.array(ServiceName),
  skipped: z.array(z.object({ container: z.string(), reason: z.string() })),
  /** The draft checked like the loader checks a file (empty: valid). */
  problems: z.array(ConfigProblem),
  /** Why the draft cannot be written without force (the current file is invalid). */
  refused: z.string().optional(),
});
export type AdoptDraftView = z.infer<typeof AdoptDraftView>;

/** `POST /api/nodes/<node>/adopt`: write the draft made from the file of `baseRevision`. */
export const AdoptWriteBody = z.object({
  baseRevision: z.string().max(64),
  /** Replace same-named services and an invalid file; `"true"` from a plain form. */
  force: z.union([z.boolean(), z.literal('true')]).optional(),
});
export type AdoptWriteBody = z.infer<typeof AdoptWriteBody>;

export const AdoptWriteResult = z.object({
  /** False when the draft changed nothing (no file written). */
  written: z.boolean(),
  draft: AdoptDraftView,
});
export type AdoptWriteResult = z.infer<typeof AdoptWriteResult>;
