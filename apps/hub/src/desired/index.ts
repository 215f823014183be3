export { loadDesired, DesiredState, type LoadedDesired } from './load-desired';
export { formatProblems, formatPath } from './problems';
