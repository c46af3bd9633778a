// pyctl untrust FINGERPRINT : stop accepting a client certificate.
import { out, report, wantsHelp, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";
import { parseArgs } from "./tls-args.js";

export const HELP = `usage: pyctl untrust FINGERPRINT [--json]

Removes a client certificate from ~/.pythond/tls/trusted_clients/ (see pyctl trust
--list). FINGERPRINT is AB:CD:... (any case, separators optional) or SHA256:<base64>.
When the last one goes, the TLS listener no longer asks for client certificates.
Exit status: 0 removed, 1 no such entry, 2 usage.`;

export async function untrust(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(HELP), EXIT_OK;
  let opts: Record<string, any>, fp: string;
  const { normaliseFingerprint, sshForm } = await import("../../tls/fingerprint.js");
  try {
    let rest: string[];
    ({ opts, rest } = parseArgs(argv, { json: "flag" }));
    if (rest.length !== 1) throw new UsageError("pyctl untrust FINGERPRINT");
    fp = normaliseFingerprint(rest[0]);
    if (!fp) throw new UsageError(`not a fingerprint: ${JSON.stringify(rest[0])} (want AB:CD:... or SHA256:...)`);
  } catch (e) {
    return report(e);
  }
  const store = await import("../../tls/trust-store.js");
  try {
    const removed = store.removeFromStore(store.trustedClientsDir(), fp);
    if (!removed.length) {
      process.stderr.write(`ERR no trusted client ${sshForm(fp)} (see: pyctl trust --list)\n`);
      return EXIT_ERROR;
    }
    out(opts.json ? JSON.stringify({ untrusted: fp, sha256: sshForm(fp), removed }) : `untrusted client: ${fp}`);
    return EXIT_OK;
  } catch (e) {
    return report(e);
  }
}
