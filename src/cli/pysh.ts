// pysh: the session client (like ssh).
import { dispatch, verbs, PYSH_HELP } from "./verbs.js";

// No top-level await: this entry is bundled as CommonJS for a faster start (scripts/build.mjs).
// Exit as soon as the verb is done: a natural exit first waits for the server's side of the
// WebSocket closing handshake and then tears the V8 heap down, ~2-5 ms of every one-shot call
// (docs/PERFORMANCE.md). Nothing is lost: our stdout and stderr writes are synchronous (files,
// pipes and terminals on Linux) and the close frame has already been written.
void dispatch(process.argv.slice(2), verbs, PYSH_HELP).then((code) => process.exit(code));
