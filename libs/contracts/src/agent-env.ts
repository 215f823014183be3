/**
 * Environment variables that hold the agent's own broker credentials. The
 * agent's configuration reads them from here (apps/node-agent config.ts), and
 * an mqtt probe's `passwordEnv` may never name one: services.yaml comes from
 * the hub, and a probe URL is free, so such a probe would send the agent's
 * secret to whatever broker the URL names (docs/services-yaml.md, Probes).
 */
export const AGENT_CREDENTIAL_ENV = {
  mqttPassword: 'HOMELAB_MQTT_PASSWORD',
  mqttPasswordFile: 'HOMELAB_MQTT_PASSWORD_FILE',
} as const;

const CREDENTIAL_NAMES: ReadonlySet<string> = new Set(Object.values(AGENT_CREDENTIAL_ENV));

/** True when `name` is one of the agent's own credential variables. */
export const isAgentCredentialEnv = (name: string): boolean => CREDENTIAL_NAMES.has(name);
