export { Executor, type ExecutorDeps, type ExecutorReport } from './executor';
export { ResultOutcome, commandFor } from './commands';
