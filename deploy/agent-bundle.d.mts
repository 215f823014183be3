export declare const AGENT_NODE_FLAGS: string[];
export declare const CJS_BANNER: string;
export declare const inputsFileOf: (outfile: string) => string;
export declare function agentBundleIsFresh(outfile: string): boolean;
export declare function buildAgentBundle(outfile?: string, cwd?: string): Promise<string>;
