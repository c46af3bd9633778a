// pyctl pin <cert.pem> [--host HOST:PORT] | pyctl pin HOST:PORT [--expect FP] | --list :
// the servers this client believes (its known_hosts).
import { existsSync } from "node:fs";
import { verb, out, EXIT_OK, UsageError, CliError } from "../common.js";

const USAGE = "pyctl pin <cert.pem> [--host HOST:PORT] [--json]\npyctl pin HOST:PORT [--expect FINGERPRINT] [--json]\npyctl pin --list [--json]";

export const HELP = `usage: pyctl pin <cert.pem> [--host HOST:PORT] [--json]
       pyctl pin HOST:PORT [--expect FINGERPRINT] [--json]
       pyctl pin --list [--json]

Client side, like known_hosts: the server certificates pysh and pyctl accept over TLS.
The server's certificate is checked against them before the token is sent.
  <cert.pem>             pin a server certificate copied from the server (its
                         ~/.pythond/tls/cert.pem); with --host only for that server,
                         without for every server (as pythond 0.4 did)
  HOST:PORT              first contact: connect, show the certificate the server
                         presents, and pin it for HOST:PORT only after you confirm
                         (compare with pyctl cert on the server). Not on a terminal,
                         --expect is required
  --expect FINGERPRINT   pin only if the server presents this one (AB:CD:... or
                         SHA256:...): for scripts
  --list                 show the pins ("*" for the ones valid for every server)
Remove one with: pyctl unpin FINGERPRINT|HOST:PORT
Exit status: 0 pinned (or already), 1 refused or not confirmed, 2 usage.`;

const CONFIRM_TIMEOUT_MS = 5 * 60_000;

async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import("node:readline");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve(""), CONFIRM_TIMEOUT_MS);
      rl.question(question, (a) => (clearTimeout(timer), resolve(a)));
      rl.once("close", () => (clearTimeout(timer), resolve("")));
    });
    return /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export const pin = verb({ usage: USAGE, help: HELP, options: { "--host": "value", "--expect": "value", "--list": "flag", "--json": "flag" } }, async ({ opts, args }) => {
  if (opts.list ? args.length !== 0 : args.length !== 1) throw new UsageError(`pyctl pin: ${opts.list ? "--list takes no argument" : "want one certificate file or HOST:PORT"}`, USAGE);
  const fpMod = await import("../../tls/fingerprint.js");
  let expect = "";
  if (opts.expect !== undefined) {
    expect = fpMod.normaliseFingerprint(opts.expect);
    if (!expect) throw new UsageError(`pyctl pin: --expect wants a fingerprint (AB:CD:... or SHA256:...), got ${JSON.stringify(opts.expect)}`, USAGE);
  }
  const store = await import("../../tls/trust-store.js");
  const { parseTarget, canonicalAddress } = await import("../../util/address.js");
  const { sshForm } = fpMod;
  const warn = (m: string) => process.stderr.write(m + "\n");
  const refuse = (type: string, message: string): never => {
    throw new CliError(type, message);
  };
  if (opts.list) {
    const rows: { host: string; fingerprint: string; sha256: string }[] = [];
    const add = (host: string, dir: string) => {
      for (const fp of store.fingerprintSet(dir, warn)) rows.push({ host, fingerprint: fp, sha256: sshForm(fp) });
    };
    add("*", store.trustedServersDir());
    for (const h of store.pinnedHosts()) add(h, store.hostPinsDir(h));
    if (opts.json) out(JSON.stringify(rows));
    else out(rows.length ? rows.map((r) => `${r.host}  ${r.sha256}  ${r.fingerprint}`).join("\n") : "(no pinned servers)");
    return EXIT_OK;
  }
  const { caCapable } = await import("../../tls/cert.js");
  const done = (fp: string, dest: string, host: string | null, already = false) => {
    if (opts.json) out(JSON.stringify({ pinned: fp, sha256: sshForm(fp), host: host ?? "*", file: dest, already }));
    else out(`${already ? "already pinned" : "pinned server"}: ${fp}${host ? ` (for ${host} only)` : ""}\n  -> ${dest}`);
    return EXIT_OK;
  };

  const arg = args[0];
  if (existsSync(arg)) {
    const c = store.readCertFile(arg);
    if (caCapable(c.der)) refuse("refused", "refusing CA-capable certificate (a pin names one server)");
    if (expect && expect !== c.fingerprint) refuse("fingerprint_mismatch", `${arg} is ${sshForm(c.fingerprint)}, not the expected ${sshForm(expect)}`);
    const host = opts.host === undefined ? null : canonicalAddress(parseTarget(opts.host, "--host"));
    const dest = store.addToStore(host ? store.hostPinsDir(host) : store.trustedServersDir(), c.pem, c.fingerprint);
    return done(c.fingerprint, dest, host);
  }
  if (!arg.includes(":")) refuse("not_found", `no such certificate file: ${arg} (to pin a server by contacting it: pyctl pin HOST:PORT)`);
  if (opts.host !== undefined) throw new UsageError("pyctl pin: --host goes with a certificate file; HOST:PORT already names the server", USAGE);

  // First contact, as ssh's: show what the server presents, pin only what the user accepts.
  const a = parseTarget(arg, "HOST:PORT");
  const host = canonicalAddress(a);
  const { fetchServerCert } = await import("../../tls/probe.js");
  let der: Buffer;
  try {
    der = await fetchServerCert(a.host, a.port);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return refuse("connect", `cannot get the certificate of ${host}: ${code === "ECONNREFUSED" ? "connection refused" : (e as Error).message} -- is a TLS listener there? (on the server: pythond daemon --listen ... --tls)`);
  }
  const fp = fpMod.fingerprintOf(der);
  const known = store.fingerprintSet(store.hostPinsDir(host), warn);
  if (known.has(fp)) return done(fp, store.hostPinsDir(host), host, true);
  if (known.size) {
    refuse(
      "fingerprint_mismatch",
      `${host} now presents ${sshForm(fp)} (${fp}), not its pinned certificate. It may be an impostor, or the server's certificate was replaced: check pyctl cert on the server, then: pyctl unpin ${host} && pyctl pin ${host} --expect ${sshForm(fp)}`,
    );
  }
  if (caCapable(der)) refuse("refused", `${host} presents a CA-capable certificate; refusing to pin it (a pin names one server)`);
  if (expect) {
    if (expect !== fp) refuse("fingerprint_mismatch", `${host} presents ${sshForm(fp)} (${fp}), not the expected ${sshForm(expect)}; nothing pinned`);
  } else {
    const seen = `the server at ${host} presents a certificate with fingerprint\n  ${sshForm(fp)}\n  ${fp}`;
    if (!process.stdin.isTTY) refuse("not_confirmed", `${seen}\nnot on a terminal: pass --expect with the fingerprint that pyctl cert shows on the server (nothing pinned)`);
    warn(seen);
    if (!(await confirm(`Compare it with pyctl cert on the server. Pin it for ${host}? [yes/no] `))) refuse("not_confirmed", "not confirmed; nothing pinned");
  }
  const dest = store.addToStore(store.hostPinsDir(host), Buffer.from(fpMod.derToPem(der)), fp);
  return done(fp, dest, host);
});
