// The pythond SDK: the one public surface of the package.
export { Link, LinkClosedError, LinkTimeoutError, LinkRemoteError } from "./link/link.js";
export { startAgent, AgentStartError } from "./bootstrap/spawn.js";
