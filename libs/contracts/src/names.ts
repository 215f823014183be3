import { z } from 'zod';

/**
 * One strict pattern for every name that can reach a file path, an MQTT topic
 * or a command line (docs/security.md, "One name pattern": Netdata
 * CVE-2023-22496, Dockge traversal, Mosquitto CVE-2017-7650). Lowercase
 * letters, digits, `_` and `-`; no dots, no slashes, no MQTT wildcards, no
 * leading dash (so never an argv flag).
 */
export const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$/;

export const NodeName = z.string().regex(NAME_PATTERN, 'must match [a-z0-9][a-z0-9_-]* (max 63, no dots, slashes or wildcards)');
export type NodeName = z.infer<typeof NodeName>;

export const ServiceName = NodeName;
export type ServiceName = z.infer<typeof ServiceName>;

/** Docker container names: Docker's own rule, without a leading dash. */
export const CONTAINER_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
export const ContainerName = z.string().regex(CONTAINER_NAME_PATTERN, 'must be a Docker container name');

/**
 * Action ids are built from names (`redeploy-<node>-<service>`: two names of up
 * to 63 characters each), so the same pattern family applies, longer. Every
 * place that must hold any id (HTTP route parameters) takes its length from here.
 */
export const ACTION_ID_MAX_LENGTH = 192;
export const ACTION_ID_PATTERN = new RegExp(`^[a-z0-9](?:[a-z0-9_-]{0,${ACTION_ID_MAX_LENGTH - 2}}[a-z0-9])?$`);
export const ActionId = z.string().regex(ACTION_ID_PATTERN, 'must be a valid action id');
export type ActionId = z.infer<typeof ActionId>;

export const IsoTime = z.iso.datetime({ offset: true });
