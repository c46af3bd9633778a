// pysh put and get, bundled on their own (dist/pysh-files.cjs): they need the Tool SDK (~80 KB
// of bundle) that no other verb loads, so pysh.cjs stays as small as its cold path wants.
export { put } from "./commands/put.js";
export { get } from "./commands/get.js";
