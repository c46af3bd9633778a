// pyctl unpin FINGERPRINT|HOST:PORT [--host HOST:PORT] : forget a pinned server certificate.
import { verb, out, EXIT_OK, UsageError, CliError } from "../common.js";

const USAGE = "pyctl unpin FINGERPRINT [--host HOST:PORT] [--json]\npyctl unpin HOST:PORT [--json]";

export const HELP = `usage: pyctl unpin FINGERPRINT [--host HOST:PORT] [--json]
       pyctl unpin HOST:PORT [--json]

Removes pins (see pyctl pin --list). A FINGERPRINT (AB:CD:... or SHA256:...) is
removed everywhere, or only from HOST:PORT's pins with --host; HOST:PORT removes
every pin of that server (global pins stay).
Exit status: 0 removed, 1 nothing matched, 2 usage.`;

export const unpin = verb({ usage: USAGE, help: HELP, options: { "--host": "value", "--json": "flag" } }, async ({ opts, args }) => {
  if (args.length !== 1) throw new UsageError("pyctl unpin: want one FINGERPRINT or HOST:PORT", USAGE);
  const { normaliseFingerprint, sshForm } = await import("../../tls/fingerprint.js");
  const store = await import("../../tls/trust-store.js");
  const { parseTarget, canonicalAddress } = await import("../../util/address.js");
  const fp = normaliseFingerprint(args[0]);
  const removed: { host: string; fingerprint: string }[] = [];
  const drop = (host: string, dir: string, which?: string) => {
    for (const f of store.fingerprintSet(dir)) {
      if (which && f !== which) continue;
      if (store.removeFromStore(dir, f).length) removed.push({ host, fingerprint: f });
    }
    if (host !== "*") store.pruneHostDir(host);
  };
  if (fp) {
    const only = opts.host === undefined ? null : canonicalAddress(parseTarget(opts.host, "--host"));
    if (!only) drop("*", store.trustedServersDir(), fp);
    for (const h of store.pinnedHosts()) if (!only || h === only) drop(h, store.hostPinsDir(h), fp);
  } else {
    if (opts.host !== undefined) throw new UsageError("pyctl unpin: --host goes with a FINGERPRINT", USAGE);
    const host = canonicalAddress(parseTarget(args[0], "HOST:PORT"));
    drop(host, store.hostPinsDir(host));
  }
  if (!removed.length) throw new CliError("not_found", `no pin matches ${args[0]} (see: pyctl pin --list)`);
  if (opts.json) out(JSON.stringify(removed.map((r) => ({ ...r, sha256: sshForm(r.fingerprint) }))));
  else out(removed.map((r) => `unpinned: ${r.fingerprint} (${r.host === "*" ? "every server" : r.host})`).join("\n"));
  return EXIT_OK;
});
