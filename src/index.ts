// The pythond SDK: the one public surface of the package.
export { Client, PROTOCOL, type ConnectOptions, type RequestHandlers, type CellOutcome } from "./client/client.js";
export { DaemonRequestError, ConnectError } from "./client/errors.js";
export { Link, LinkClosedError, LinkTimeoutError, LinkRemoteError } from "./link/link.js";
export { RequestHead } from "./link/frame.js";
export { startAgent, AgentStartError } from "./bootstrap/spawn.js";
// Tools: Python classes run on any bare python3 over any stdio transport (docs/TOOLS.md).
export * from "./tools/index.js";
