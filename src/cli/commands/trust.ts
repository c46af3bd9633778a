// pyctl trust <cert.pem> | --list : the client certificates this server accepts (mTLS).
import { verb, out, EXIT_OK, UsageError, CliError } from "../common.js";

const USAGE = "pyctl trust <cert.pem> [--json]\npyctl trust --list [--json]";

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

export const trust = verb({ usage: USAGE, help: HELP, options: { "--list": "flag", "--json": "flag" } }, async ({ opts, args }) => {
  if (opts.list ? args.length !== 0 : args.length !== 1) throw new UsageError(`pyctl trust: ${opts.list ? "--list takes no argument" : "want one certificate file"}`, USAGE);
  const store = await import("../../tls/trust-store.js");
  const { sshForm } = await import("../../tls/fingerprint.js");
  if (opts.list) {
    const seen = new Map<string, string>();
    for (const e of store.readStore(store.trustedClientsDir(), (m) => process.stderr.write(m + "\n"))) if (!seen.has(e.fingerprint)) seen.set(e.fingerprint, e.file);
    const list = [...seen].map(([fp, file]) => ({ fingerprint: fp, sha256: sshForm(fp), file }));
    if (opts.json) out(JSON.stringify(list));
    else out(list.length ? list.map((e) => `${e.sha256}  ${e.fingerprint}`).join("\n") : "(no trusted clients: the TLS listener asks for the token only)");
    return EXIT_OK;
  }
  const { caCapable } = await import("../../tls/cert.js");
  const c = store.readCertFile(args[0]);
  if (caCapable(c.der)) throw new CliError("refused", "refusing CA-capable certificate (a trusted entry names one client)");
  const dest = store.addToStore(store.trustedClientsDir(), c.pem, c.fingerprint);
  if (opts.json) out(JSON.stringify({ trusted: c.fingerprint, sha256: sshForm(c.fingerprint), file: dest }));
  else out(`trusted client: ${c.fingerprint}\n  -> ${dest}`);
  return EXIT_OK;
});
