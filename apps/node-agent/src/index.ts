export { runAgent } from './main';
export { NodeAgent, type NodeAgentDeps } from './agent';
export { AgentConfig, AGENT_SETTINGS, AGENT_OPTIONS, checkAgentConfig, parseAgentConfig, type AgentConfigCheck, type AgentFlags } from './config';
export { AgentError, type AgentErrorCode } from './errors';
export type { DockerPort, ContainerEvent } from './docker-port';
export type { ConnectMqtt, MqttLink, MqttLinkOptions } from './mqtt-port';
export { assessService, type Assessment, type WatchedService } from './health';
export type { CommandErrorCode } from './commands';
