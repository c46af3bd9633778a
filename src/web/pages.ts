// The two HTML documents: the sign-in stub (no token yet: 401) and the page itself. Neither
// has inline script; the nonce lets xterm's generated <style> elements in (csp.ts).
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function loginPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pythond: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css"><script src="/login.js" defer></script></head>
<body class="login"><main><h1>pythond</h1>
<p id="login-status">This page needs its token. Open the address that <code>pyctl web</code> printed
(it ends in <code>#token=…</code>).</p></main></body></html>
`;
}

export function appPage(nonce: string, title: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css"><script src="/app.js" nonce="${nonce}" defer></script></head>
<body class="app"></body></html>
`;
}
