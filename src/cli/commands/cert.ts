// pyctl cert [--san NAME]... [--new] [--json] : this machine's certificate, made on first use.
import { verb, out, EXIT_OK, UsageError, CliError } from "../common.js";

const USAGE = "pyctl cert [--san NAME]... [--new] [--json]";

export const HELP = `usage: ${USAGE}

Shows this machine's TLS certificate (~/.pythond/tls/cert.pem, key in key.pem, 0600),
creating it on first use. It serves as the server certificate (pythond daemon --listen)
and as the client certificate (mTLS). Its names: localhost, pythond, 127.0.0.1, ::1,
plus each --san. The fingerprint is the SHA-256 of the certificate, shown as pythond
0.4 wrote it (AB:CD:...) and as SHA256:<base64>.
  --san NAME   also valid for this DNS name or IP address (repeatable; on an existing
               certificate that lacks it, add --new)
  --new        make a new key and certificate (clients that pinned the old one, and
               servers that trusted it, must pin/trust the new one)
  --json       print {cert, key, fingerprint, sha256, sans, not_after, created}
Exit status: 0 ok, 1 error, 2 usage.`;

export const cert = verb({ usage: USAGE, help: HELP, options: { "--san": "list", "--new": "flag", "--json": "flag" } }, async ({ opts, args }) => {
  if (args.length) throw new UsageError(`pyctl cert: unexpected argument ${JSON.stringify(args[0])}`, USAGE);
  const { loadMachineCert, createMachineCert, checkSan } = await import("../../tls/cert.js");
  const { sshForm } = await import("../../tls/fingerprint.js");
  const sans: string[] = (opts.san ?? []).map(checkSan);
  let c = opts.new ? null : loadMachineCert();
  if (c) {
    const missing = sans.filter((s) => !c!.sans.includes(s));
    if (missing.length) throw new CliError("cert_names", `the certificate is not valid for ${missing.join(", ")} -- make a new one: pyctl cert --new ${sans.map((s) => `--san ${s}`).join(" ")}`);
  } else c = await createMachineCert(sans);
  const sha = sshForm(c.fingerprint);
  if (opts.json) {
    out(JSON.stringify({ cert: c.certPath, key: c.keyPath, fingerprint: c.fingerprint, sha256: sha, sans: c.sans, not_after: c.notAfter, created: c.created }));
    return EXIT_OK;
  }
  out(
    [
      `this machine's TLS certificate${c.created ? " (new)" : ""}:`,
      `cert: ${c.certPath}`,
      `key:  ${c.keyPath}`,
      `fingerprint: ${c.fingerprint}`,
      `             ${sha}`,
      `names: ${c.sans.join(", ")}`,
      `valid until: ${c.notAfter}`,
      "",
      "If this machine is the client:",
      `  copy ${c.certPath} to the server and run: pyctl trust <copied-client-cert.pem>`,
      "If this machine is the server:",
      `  on the client run: pyctl pin HOST:PORT --expect ${sha}`,
      `  or copy ${c.certPath} to the client and run: pyctl pin <copied-server-cert.pem> --host HOST:PORT`,
    ].join("\n"),
  );
  return EXIT_OK;
});
