// pyctl trust <cert.pem> | --list : the client certificates this server accepts (mTLS).
import { out, report, wantsHelp, EXIT_OK, EXIT_ERROR, UsageError } from "../common.js";
import { parseArgs } from "./tls-args.js";

export const HELP = `usage: pyctl trust <cert.pem> [--json]
       pyctl trust --list [--json]

Server side, like adding a key to authorized_keys: copies a client's certificate
(made there by pyctl cert) into ~/.pythond/tls/trusted_clients/. Once any is there,
the TLS listener requires a client certificate that matches one of them, as well as
the token (the start line says auth=mtls); a change applies from the next connection.
CA certificates are refused: a trusted entry names one client.
  --list   show the trusted client fingerprints
Remove one with: pyctl untrust FINGERPRINT
Exit status: 0 ok, 1 error, 2 usage.`;

export async function trust(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return out(HELP), EXIT_OK;
  let opts: Record<string, any>, rest: string[];
  try {
    ({ opts, rest } = parseArgs(argv, { list: "flag", json: "flag" }));
    if (opts.list ? rest.length !== 0 : rest.length !== 1) throw new UsageError("pyctl trust <cert.pem> | --list");
  } catch (e) {
    return report(e);
  }
  const store = await import("../../tls/trust-store.js");
  const { sshForm } = await import("../../tls/fingerprint.js");
  try {
    if (opts.list) {
      const seen = new Map<string, string>();
      for (const e of store.readStore(store.trustedClientsDir(), (m) => process.stderr.write(m + "\n"))) if (!seen.has(e.fingerprint)) seen.set(e.fingerprint, e.file);
      const list = [...seen].map(([fp, file]) => ({ fingerprint: fp, sha256: sshForm(fp), file }));
      if (opts.json) out(JSON.stringify(list));
      else out(list.length ? list.map((e) => `${e.sha256}  ${e.fingerprint}`).join("\n") : "(no trusted clients: the TLS listener asks for the token only)");
      return EXIT_OK;
    }
    const { caCapable } = await import("../../tls/cert.js");
    const c = store.readCertFile(rest[0]);
    if (caCapable(c.der)) {
      process.stderr.write("ERR refusing CA-capable certificate (a trusted entry names one client)\n");
      return EXIT_ERROR;
    }
    const dest = store.addToStore(store.trustedClientsDir(), c.pem, c.fingerprint);
    if (opts.json) out(JSON.stringify({ trusted: c.fingerprint, sha256: sshForm(c.fingerprint), file: dest }));
    else out(`trusted client: ${c.fingerprint}\n  -> ${dest}`);
    return EXIT_OK;
  } catch (e) {
    return report(e);
  }
}
