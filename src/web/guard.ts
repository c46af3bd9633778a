// The web page's session cookie (HttpOnly, SameSite=Strict) that the token was exchanged for.
// (Host and Origin, which every request passes first, are util/http-guard.ts.)
import { createHmac } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { secretsEqual } from "../tls/token.js";

export const COOKIE_NAME = "pythond_web";
/** Longest Cookie header read; anything longer is not ours and is refused. */
const MAX_COOKIE_HEADER = 8192;

export function cookieOf(req: IncomingMessage, name = COOKIE_NAME): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== "string" || header.length > MAX_COOKIE_HEADER) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function signedIn(req: IncomingMessage, expected: string): boolean {
  const got = cookieOf(req);
  return got !== undefined && secretsEqual(got, expected);
}

export function sessionCookie(value: string, tls: boolean): string {
  return `${COOKIE_NAME}=${value}; Path=/; HttpOnly; SameSite=Strict${tls ? "; Secure" : ""}`;
}

/** The session cookie's value: derived from the token, so it is not the token and ends with it. */
export function cookieValue(token: string): string {
  return createHmac("sha256", token).update("pythond web cookie v1").digest("hex");
}
