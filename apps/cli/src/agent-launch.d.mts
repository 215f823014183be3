export declare const AGENT_BUNDLE: string;
export declare function ensureAgentBundle(): string;
export declare function agentNodeArgs(args: string[]): string[];
export declare function execAgent(args: string[]): void;
