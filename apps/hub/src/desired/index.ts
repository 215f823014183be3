export { loadDesired, forAgents, agentServices, DesiredFileCache, DesiredState, POLICY_FILE_NAME, type LoadedDesired, type LoadOptions } from './load-desired';
export { formatProblems, formatPath } from './problems';
export { agentRevision, desiredRevision } from './revision';
