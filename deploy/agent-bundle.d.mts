export declare const AGENT_NODE_FLAGS: string[];
export declare const CJS_BANNER: string;
export declare const inputsFileOf: (outfile: string) => string;
export declare function agentBundleIsFresh(outfile: string): boolean;
export declare function buildAgentBundle(outfile?: string, cwd?: string): Promise<string>;
export declare const AGENT_BUNDLE_PLUGINS: import('esbuild').Plugin[];
export declare function markSchemaCallsPure(source: string): string;
