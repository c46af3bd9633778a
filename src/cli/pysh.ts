// pysh: the session client (like ssh).
import { dispatch, verbs, PYSH_HELP } from "./verbs.js";

// No top-level await: this entry is bundled as CommonJS for a faster start (scripts/build.mjs).
// Exit as soon as the verb is done and our output has left: a natural exit first waits for the
// server's side of the WebSocket closing handshake and then tears the V8 heap down, ~2-5 ms of
// every one-shot call (docs/PERFORMANCE.md). stdout may be a socket the parent reads slowly, so
// exit from the callback of an empty write to each stream: it runs after every earlier write.
void dispatch(process.argv.slice(2), verbs, PYSH_HELP).then((code) => {
  process.exitCode = code;
  let left = 2;
  const done = () => --left || process.exit(code);
  process.stdout.write("", done);
  process.stderr.write("", done);
});
