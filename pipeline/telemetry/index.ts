// Self-telemetry: what the engine and the diagnostic extensions import.
export { SelfTelemetry } from './self_telemetry';
export type { BuildInfo } from './self_telemetry';
export { closeServer, formatHostPort, HttpEndpoint, listen, parseHostPort } from './endpoint';
export type { HostPort } from './endpoint';
export { atLeast, counterName, ITEMS } from './names';
