// pysh: the session client (like ssh).
import { dispatch, verbs, PYSH_HELP } from "./verbs.js";

// No top-level await: this entry is bundled as CommonJS for a faster start (scripts/build.mjs).
void dispatch(process.argv.slice(2), verbs, PYSH_HELP).then((code) => (process.exitCode = code));
