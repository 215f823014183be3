export { loadDesired, forAgents, DesiredFileCache, DesiredState, POLICY_FILE_NAME, type LoadedDesired, type LoadOptions } from './load-desired';
export { formatProblems, formatPath } from './problems';
