// pyctl cert, token, trust, untrust, pin, unpin on their own: what they write (0.4's layout,
// private modes), what they refuse (CA certificates, garbage, bad fingerprints, usage), and
// --json on every path.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, statSync, readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { X509Certificate, createHash } from "node:crypto";
import { join } from "node:path";
import { daemonFactory } from "./helpers/daemon.mjs";

const newDaemon = daemonFactory(after);
const mode = (p) => statSync(p).mode & 0o777;

test("pyctl cert: made on first use with 0.4's profile, then the same; --san needs --new; --json", async () => {
  const d = newDaemon();
  const first = await d.pyctl("cert", "--json");
  assert.equal(first.code, 0, first.stderr);
  const c = JSON.parse(first.stdout);
  assert.equal(c.created, true);
  const pem = readFileSync(c.cert, "utf8");
  const x = new X509Certificate(pem);
  assert.equal(x.subject, "CN=pythond");
  assert.equal(x.issuer, "CN=pythond");
  assert.equal(x.ca, false);
  assert.equal(x.subjectAltName, "DNS:localhost, DNS:pythond, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
  assert.deepEqual(x.keyUsage.sort(), ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]); // EKU serverAuth + clientAuth
  assert.ok(new Date(x.validTo) - Date.now() > 3600 * 86400_000);
  const hex = createHash("sha256").update(x.raw).digest("hex").toUpperCase();
  assert.equal(c.fingerprint, hex.match(/../g).join(":"));
  assert.equal(c.sha256, "SHA256:" + Buffer.from(hex, "hex").toString("base64").replace(/=+$/, ""));
  assert.equal(mode(c.key), 0o600);
  assert.equal(mode(join(d.home, ".pythond", "tls")), 0o700);
  const text = await d.pyctl("cert");
  assert.match(text.stdout, new RegExp(`^this machine's TLS certificate:\ncert: ${c.cert}\nkey:  ${c.key}\nfingerprint: ${c.fingerprint}\n +${c.sha256.replace(/[+/]/g, "\\$&")}\n`));
  assert.equal(JSON.parse((await d.pyctl("cert", "--json")).stdout).fingerprint, c.fingerprint, "shown, not remade");

  const lacks = await d.pyctl("cert", "--san", "server.example");
  assert.equal(lacks.code, 1);
  assert.match(lacks.stderr, /not valid for server\.example -- make a new one: pyctl cert --new --san server\.example/);
  const renewed = JSON.parse((await d.pyctl("cert", "--new", "--san", "server.example", "--san", "10.1.2.3", "--json")).stdout);
  assert.notEqual(renewed.fingerprint, c.fingerprint);
  assert.deepEqual(renewed.sans, ["localhost", "pythond", "127.0.0.1", "0:0:0:0:0:0:0:1", "server.example", "10.1.2.3"]);
  assert.equal((await d.pyctl("cert", "--san", "server.example")).code, 0);
  const bad = await d.pyctl("cert", "--new", "--san", "not a name!");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid --san "not a name!"/);
  assert.equal((await d.pyctl("cert", "extra")).code, 2);
  assert.equal((await d.pyctl("cert", "--bogus")).code, 2);
});

test("pyctl cert: a key that does not belong to the certificate is an error naming the fix, not a silent new identity", async () => {
  const d = newDaemon();
  const c = JSON.parse((await d.pyctl("cert", "--json")).stdout);
  const other = newDaemon();
  const o = JSON.parse((await other.pyctl("cert", "--json")).stdout);
  writeFileSync(c.key, readFileSync(o.key));
  const r = await d.pyctl("cert");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /do not belong together -- remove .* or run: pyctl cert --new/);
  writeFileSync(c.cert, "garbage");
  assert.match((await d.pyctl("cert")).stderr, /holds no certificate/);
  // the daemon refuses to listen with it too
  const start = await d.pyctl("start", "--listen", "127.0.0.1:0", "--tls");
  assert.equal(start.code, 1);
  assert.match(start.stderr, /^ERR .*holds no certificate/m);
});

function caCert(dir, name, ext) {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", `/CN=${name}`, "-keyout", key, "-out", cert, "-days", "2", ...ext.flatMap((e) => ["-addext", e])], { stdio: "ignore" });
  return cert;
}

test("trust and pin: 0.4's file layout, private; CA-capable and garbage certificates refused; --list, untrust, unpin", async () => {
  const d = newDaemon();
  const peer = newDaemon();
  const pc = JSON.parse((await peer.pyctl("cert", "--json")).stdout);
  const t = await d.pyctl("trust", pc.cert, "--json");
  assert.equal(t.code, 0, t.stderr);
  const tj = JSON.parse(t.stdout);
  const short = pc.fingerprint.replace(/:/g, "").slice(0, 16);
  assert.equal(tj.file, join(d.home, ".pythond", "tls", "trusted_clients", `${short}.pem`));
  assert.equal(readFileSync(tj.file, "utf8"), readFileSync(pc.cert, "utf8"), "a byte-exact copy");
  assert.equal(readFileSync(tj.file + ".fingerprint", "utf8"), pc.fingerprint + "\n");
  assert.equal(mode(tj.file), 0o600);
  assert.equal(mode(tj.file + ".fingerprint"), 0o600);
  assert.equal(mode(join(d.home, ".pythond", "tls", "trusted_clients")), 0o700);
  assert.match((await d.pyctl("trust", "--list")).stdout, new RegExp(`^${pc.sha256.replace(/[+/]/g, "\\$&")}  ${pc.fingerprint}\n$`));

  for (const [name, ext] of [["ca", ["basicConstraints=critical,CA:TRUE"]], ["signer", ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,keyCertSign"]]]) {
    const file = caCert(d.dir, name, ext);
    for (const verb of ["trust", "pin"]) {
      const r = await d.pyctl(verb, file);
      assert.equal(r.code, 1, `${verb} ${name}`);
      assert.match(r.stderr, /^ERR refusing CA-capable certificate/);
    }
  }
  const junk = join(d.dir, "junk.pem");
  writeFileSync(junk, "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
  for (const verb of ["trust", "pin"]) {
    const r = await d.pyctl(verb, junk);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ERR /);
  }
  writeFileSync(junk, Buffer.alloc(100_000, 0x41));
  assert.match((await d.pyctl("trust", junk)).stderr, /too large/);
  assert.match((await d.pyctl("pin", join(d.dir, "absent.pem"))).stderr, /no such certificate file/);

  // pins: global and per host, listed, removed by fingerprint or by host
  assert.equal((await d.pyctl("pin", pc.cert)).code, 0);
  assert.equal((await d.pyctl("pin", pc.cert, "--host", "example.org:7399")).code, 0);
  const rows = JSON.parse((await d.pyctl("pin", "--list", "--json")).stdout);
  assert.deepEqual(rows.map((r) => [r.host, r.fingerprint]), [["*", pc.fingerprint], ["example.org:7399", pc.fingerprint]]);
  assert.equal(readdirSync(join(d.home, ".pythond", "tls", "trusted_servers")).sort().join(","), `${short}.pem,${short}.pem.fingerprint,hosts`);
  const un = await d.pyctl("unpin", pc.fingerprint.toLowerCase().replace(/:/g, ""), "--host", "example.org:7399");
  assert.equal(un.code, 0);
  assert.equal(un.stdout, `unpinned: ${pc.fingerprint} (example.org:7399)\n`);
  assert.equal((await d.pyctl("unpin", "example.org:7399")).code, 1, "nothing left for that host");
  assert.equal((await d.pyctl("unpin", pc.sha256)).code, 0);
  assert.equal((await d.pyctl("pin", "--list")).stdout, "(no pinned servers)\n");

  // untrust
  assert.equal((await d.pyctl("untrust", pc.sha256, "--json")).code, 0);
  assert.equal((await d.pyctl("trust", "--list")).stdout.startsWith("(no trusted clients"), true);
  // bad fingerprints and usage are usage errors (exit 2)
  for (const args of [["untrust", "nothex"], ["untrust"], ["pin", "a:1", "--expect", "SHA256:short"], ["pin"], ["pin", "--host"], ["unpin"], ["trust"], ["token", "x"]]) {
    const r = await d.pyctl(...args);
    assert.equal(r.code, 2, args.join(" ") + ": " + r.stderr);
    assert.match(r.stderr, /^ERR usage: /);
  }
});

test("pyctl token: made on first use (0600), shown again, --rotate replaces it; a corrupt token file is an error naming the fix", async () => {
  const d = newDaemon();
  const t1 = (await d.pyctl("token")).stdout.trim();
  assert.match(t1, /^[0-9a-f]{32}$/);
  assert.equal((await d.pyctl("token")).stdout.trim(), t1);
  const file = join(d.home, ".pythond", "token");
  assert.equal(mode(file), 0o600);
  const r = JSON.parse((await d.pyctl("token", "--rotate", "--json")).stdout);
  assert.deepEqual(Object.keys(r), ["token", "file", "rotated"]);
  assert.notEqual(r.token, t1);
  writeFileSync(file, "not a token\n");
  const bad = await d.pyctl("token");
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /does not hold a token .* pyctl token --rotate/);
});

test("errors and usage errors are JSON with --json, wherever the option is; -h anywhere is help", async () => {
  const d = newDaemon();
  const fp = "SHA256:" + Buffer.alloc(32, 7).toString("base64").replace(/=+$/, "");
  const cases = [
    [["untrust", "--json", fp], 1, "not_found"],
    [["unpin", fp, "--json"], 1, "not_found"],
    [["pin", "--json", join(d.dir, "absent.pem")], 1, "not_found"],
    [["pin", "127.0.0.1:1", "--json", "--expect", fp], 1, "connect"],
    [["trust", "--json"], 2, "usage"],
    [["token", "--bogus", "--json"], 2, "usage"],
    [["cert", "--json", "extra"], 2, "usage"],
    [["pin", "--list", "x", "--json"], 2, "usage"],
  ];
  for (const [args, code, type] of cases) {
    const r = await d.pyctl(...args);
    assert.equal(r.code, code, args.join(" ") + ": " + r.stderr);
    const e = JSON.parse(r.stdout).error;
    assert.equal(e.type, type, args.join(" "));
    assert.ok(e.message.length > 0);
  }
  for (const verb of ["cert", "token", "trust", "untrust", "pin", "unpin"]) {
    const r = await d.pyctl(verb, "x", "--help");
    assert.equal(r.code, 0, verb);
    assert.match(r.stdout, new RegExp(`^usage: pyctl ${verb} `), verb);
  }
});
