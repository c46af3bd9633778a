// The page's files: bundled into dist/web/ at build time (scripts/build.mjs: xterm.js, its fit
// addon and our page code; no CDN), read once when the server starts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../util/package-root.js";

export interface Asset {
  type: string;
  body: Buffer;
}

const FILES: Record<string, [string, string]> = {
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
  "/app.css": ["app.css", "text/css; charset=utf-8"],
  "/login.js": ["login.js", "text/javascript; charset=utf-8"],
};

/** Served without the cookie: the stub that exchanges the fragment's token for the cookie. */
export const PUBLIC_ASSETS = new Set(["/login.js", "/app.css"]);

export function loadAssets(dir = join(packageRoot(), "dist", "web")): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [route, [file, type]] of Object.entries(FILES)) {
    try {
      assets.set(route, { type, body: readFileSync(join(dir, file)) });
    } catch {
      throw new Error(`the web page's files are missing (${join(dir, file)}): run npm run build`);
    }
  }
  return assets;
}
