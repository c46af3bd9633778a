// An idle daemon loads no TCP/TLS code (issue 16: idle daemon RSS): the listener, tokens and
// the X.509 library (@peculiar/x509 + reflect-metadata, ~7 MiB once compiled) are imported
// only when the daemon is started with --listen. Checked on the static import graph of the
// sources, so a new static import that drags them back in fails here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./helpers/daemon.mjs";
import { staticClosure } from "./helpers/imports.mjs";

test("the daemon's start-up imports reach no TLS, token or certificate code", () => {
  // src/cli/commands/daemon.ts imports server.ts when the verb runs; from there on, all static.
  for (const entry of ["src/daemon/server.ts"]) {
    const { files, packages } = staticClosure(ROOT, entry);
    assert.ok(files.includes(join("src", "daemon", "session-table.ts")), `the walk follows ${entry}'s imports`);
    assert.ok(packages.includes("ws"), "packages are seen");
    assert.deepEqual(files.filter((f) => f.startsWith(join("src", "tls") + "/") || /remote-access|tcp-listener|auth\.ts$/.test(f)), [], entry);
    assert.deepEqual(packages.filter((p) => p === "@peculiar/x509" || p === "reflect-metadata"), [], entry);
  }
});

test("--listen still reaches the listener (imported when it is asked for)", () => {
  const server = readFileSync(join(ROOT, "src", "daemon", "server.ts"), "utf8");
  assert.match(server, /await import\("\.\/remote-access\.js"\)/);
  assert.match(server, /await import\("\.\/auth\.js"\)/);
  const { packages } = staticClosure(ROOT, "src/daemon/remote-access.ts");
  assert.ok(packages.includes("@peculiar/x509"));
});
