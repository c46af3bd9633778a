// First contact with a server (`pyctl pin HOST:PORT`): open TLS, take the certificate it
// presents, and close without sending a byte of application data (no token, no request).
import { connect } from "node:tls";

export function fetchServerCert(host: string, port: number, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect({
      host,
      port,
      servername: /^[\d.]+$|:/.test(host) ? undefined : host,
      minVersion: "TLSv1.2",
      rejectUnauthorized: false, // we only look; the user decides
    });
    const fail = (e: Error) => {
      clearTimeout(timer);
      s.destroy();
      reject(e);
    };
    const timer = setTimeout(() => fail(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })), timeoutMs);
    s.once("error", fail);
    s.once("secureConnect", () => {
      clearTimeout(timer);
      const raw = s.getPeerCertificate()?.raw;
      s.destroy();
      if (!raw) reject(new Error("the server presented no certificate"));
      else resolve(raw);
    });
  });
}
