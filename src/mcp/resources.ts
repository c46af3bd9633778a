// Resources: the whole of what a result cut short. pythond://sessions/<s>/cells/<id> is a
// cell's complete output, …/cells/<id>/images/<n> its n-th image, …/history the session's
// history.py (its successful cells, replayable).
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { McpError, ErrorCode } from "@modelcontextprotocol/sdk/types.js";
import { sessionStateDir } from "../util/paths.js";
import { daemon, remoteDaemon, notHere } from "./connection.js";

const NAME = "[a-z0-9_-]{1,80}";
const CELL_URI = new RegExp(`^pythond://sessions/(${NAME})/cells/([0-9a-f]{12})$`);
const IMAGE_URI = new RegExp(`^pythond://sessions/(${NAME})/cells/([0-9a-f]{12})/images/([0-9]{1,4})$`);
const HISTORY_URI = new RegExp(`^pythond://sessions/(${NAME})/history$`);
/** Larger files are refused rather than read into memory. */
const MAX_FILE = 64 * 1024 * 1024;

export const resourceTemplates = [
  { uriTemplate: "pythond://sessions/{session}/cells/{cell}", name: "cell output", description: "The whole output of a cell (stdout and stderr as they came), however long.", mimeType: "text/plain" },
  { uriTemplate: "pythond://sessions/{session}/cells/{cell}/images/{n}", name: "cell image", description: "The n-th image (PNG) of a cell, counted from 0.", mimeType: "image/png" },
  { uriTemplate: "pythond://sessions/{session}/history", name: "session history", description: "history.py: the session's successful cells, replayable as Python.", mimeType: "text/x-python" },
];

export async function listResources(): Promise<{ uri: string; name: string; mimeType: string }[]> {
  const c = await daemon();
  const { sessions } = await c.request("ls");
  return (sessions as { name: string }[]).map((s) => ({ uri: `pythond://sessions/${s.name}/history`, name: `history of ${s.name}`, mimeType: "text/x-python" }));
}

async function polled(session: string, cell: string): Promise<any> {
  const c = await daemon();
  const r = await c.request("poll", { session, cell });
  if (r.state === "unknown") throw new McpError(ErrorCode.InvalidParams, `no cell ${cell} in session ${session}`);
  if (r.state === "evicted") throw new McpError(ErrorCode.InvalidParams, `cell ${cell} of ${session} was evicted (the session keeps a bounded amount of output)`);
  return r;
}

async function boundedRead(path: string): Promise<Buffer> {
  const st = await stat(path);
  if (st.size > MAX_FILE) throw new McpError(ErrorCode.InvalidParams, `${path} is over ${MAX_FILE} bytes`);
  return readFile(path);
}

export async function readResource(uri: string): Promise<{ contents: any[] }> {
  let m = CELL_URI.exec(uri);
  if (m) {
    const r = await polled(m[1], m[2]);
    return { contents: [{ uri, mimeType: "text/plain", text: r.output ?? "" }] };
  }
  if ((m = IMAGE_URI.exec(uri))) {
    const r = await polled(m[1], m[2]);
    const path = (r.images ?? [])[Number(m[3])];
    if (!path) throw new McpError(ErrorCode.InvalidParams, `cell ${m[2]} has no image ${m[3]}`);
    const remote = await remoteDaemon();
    if (remote) throw new McpError(ErrorCode.InvalidRequest, notHere(`image ${m[3]} of cell ${m[2]} (${path})`, remote));
    return { contents: [{ uri, mimeType: "image/png", blob: (await boundedRead(path)).toString("base64") }] };
  }
  if ((m = HISTORY_URI.exec(uri))) {
    const remote = await remoteDaemon();
    if (remote) throw new McpError(ErrorCode.InvalidRequest, notHere(`the history of ${m[1]} (~/.pythond/sessions/${m[1]}/history.py)`, remote));
    let code = "";
    try {
      code = (await boundedRead(join(sessionStateDir(m[1]), "history.py"))).toString("utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    return { contents: [{ uri, mimeType: "text/x-python", text: code }] };
  }
  throw new McpError(ErrorCode.InvalidParams, `unknown resource ${JSON.stringify(uri.slice(0, 200))} (pythond://sessions/<s>/cells/<id>, …/images/<n>, …/history)`);
}
