// The sign-in stub: takes the token from the address's fragment (never sent to a server),
// trades it once for the HttpOnly cookie, removes it from the address bar, and loads the page.
export {}; // a module: its names stay its own
const status = document.getElementById("login-status");
const params = new URLSearchParams(location.hash.slice(1));
const token = params.get("token");

async function signIn(t: string): Promise<void> {
  params.delete("token");
  const rest = params.toString();
  // Out of the address bar (and of history) before anything else happens.
  history.replaceState(null, "", "/" + (rest ? "#" + rest : ""));
  const r = await fetch("/auth", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token: t }), credentials: "same-origin" });
  if (r.status === 204) location.reload();
  else if (status) status.textContent = `The token was refused (${r.status}). Open the address pyctl web printed just now.`;
}

if (token) {
  if (status) status.textContent = "Signing in…";
  signIn(token).catch((e) => {
    if (status) status.textContent = `Sign-in failed: ${e}`;
  });
}
