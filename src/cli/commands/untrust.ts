// pyctl untrust FINGERPRINT : stop accepting a client certificate.
import { verb, out, EXIT_OK, UsageError, CliError } from "../common.js";

const USAGE = "pyctl untrust FINGERPRINT [--json]";

export const HELP = `usage: ${USAGE}

Removes a client certificate from ~/.pythond/tls/trusted_clients/ (see pyctl trust
--list). FINGERPRINT is AB:CD:... (any case, separators optional) or SHA256:<base64>.
When the last one goes, the TLS listener no longer asks for client certificates.
Exit status: 0 removed, 1 no such entry, 2 usage.`;

export const untrust = verb({ usage: USAGE, help: HELP, options: { "--json": "flag" } }, async ({ opts, args }) => {
  if (args.length !== 1) throw new UsageError("pyctl untrust: want one FINGERPRINT", USAGE);
  const { normaliseFingerprint, sshForm } = await import("../../tls/fingerprint.js");
  const fp = normaliseFingerprint(args[0]);
  if (!fp) throw new UsageError(`pyctl untrust: not a fingerprint: ${JSON.stringify(args[0])} (want AB:CD:... or SHA256:...)`, USAGE);
  const store = await import("../../tls/trust-store.js");
  const removed = store.removeFromStore(store.trustedClientsDir(), fp);
  if (!removed.length) throw new CliError("not_found", `no trusted client ${sshForm(fp)} (see: pyctl trust --list)`);
  out(opts.json ? JSON.stringify({ untrusted: fp, sha256: sshForm(fp), removed }) : `untrusted client: ${fp}`);
  return EXIT_OK;
});
