/** Reported in the birth message (NodeStatus.version). Keep in step with package.json. */
export const AGENT_VERSION = '0.1.0';
