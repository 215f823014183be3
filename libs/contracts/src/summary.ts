import { z } from 'zod';
import { Action } from './actions';
import { IsoTime } from './names';
import { WorldNode, WorldService } from './world';

/** A desired-state file that failed validation; the last good version stays in force. */
export const ConfigProblem = z.object({
  file: z.string(),
  path: z.string(),
  message: z.string(),
});
export type ConfigProblem = z.infer<typeof ConfigProblem>;

/** `GET /summary` (JSON). */
export const Summary = z.object({
  generatedAt: IsoTime,
  nodes: z.array(WorldNode.extend({ desiredServices: z.number().int() })),
  services: z.array(WorldService.extend({ desired: z.boolean(), monitored: z.boolean() })),
  actions: z.object({
    counts: z.record(z.string(), z.number().int()),
    pending: z.array(Action),
    running: z.array(Action),
    recent: z.array(Action),
  }),
  configProblems: z.array(ConfigProblem),
});
export type Summary = z.infer<typeof Summary>;
