// pysh: the session client (like ssh).
import { dispatch, verbs, PYSH_HELP } from "./verbs.js";

process.exitCode = await dispatch(process.argv.slice(2), verbs, PYSH_HELP);
