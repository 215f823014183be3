import type { ChildProcess } from 'node:child_process';

export declare const LIFELINE_ENV: string;
export declare const FORWARDED_SIGNALS: NodeJS.Signals[];
export declare function spawnAgentProcess(nodeArgs: string[], env?: NodeJS.ProcessEnv): ChildProcess;
export declare function holdLifeline(): void;
export declare function followAgentProcess(child: ChildProcess): void;
