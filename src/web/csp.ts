// Response headers of every reply: a strict Content-Security-Policy and its companions.
// Scripts only from this server, never inline. xterm.js builds <style> elements at run time;
// they carry the page's per-response nonce (stamped by page/style-nonce.ts), so style
// elements need no 'unsafe-inline'. Style attributes (xterm's 24-bit colours) are allowed:
// every fetch is limited to this server, so an injected style can send nothing elsewhere.
export function securityHeaders(nonce?: string): Record<string, string> {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    `style-src-elem 'self'${nonce ? ` 'nonce-${nonce}'` : ""}`,
    "style-src-attr 'unsafe-inline'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return {
    "content-security-policy": csp,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "cache-control": "no-store",
  };
}
