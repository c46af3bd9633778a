// Tool results: a cell's view becomes MCP content. Text first (output, value, error with the
// user's frames only), then images inline up to a size cap (bigger ones are resources), then
// the text parts of rich values (_repr_markdown_, _repr_html_).
import { readFile, stat } from "node:fs/promises";
import { cellUri, type CellView } from "./cells.js";

export type Content =
  | { type: "text"; text: string }
  | { type: "image"; data: string; mimeType: string }
  | { type: "resource_link"; uri: string; name: string; mimeType?: string; description?: string };

export interface ToolResult {
  content: Content[];
  isError?: boolean;
  [key: string]: unknown;
}

export const text = (t: string, isError = false): ToolResult => ({ content: [{ type: "text", text: t }], ...(isError ? { isError } : {}) });

export const imageUri = (session: string, cell: string, n: number) => `${cellUri(session, cell)}/images/${n}`;

/** The session echoes a shown value on stdout and a traceback on stderr (for pysh); a result
 * reports each once, in its own place. */
function withoutEcho(stream: string, echo: string | null | undefined): string {
  if (!echo) return stream;
  const e = echo.endsWith("\n") ? echo : echo + "\n";
  return stream.endsWith(e) ? stream.slice(0, stream.length - e.length) : stream;
}

function summary(v: CellView): string {
  const parts: string[] = [];
  const done = v.state === "done";
  // (A polled cell has one text for both streams: the traceback may end "stdout" then.)
  const stdout = done ? withoutEcho(v.stdout, v.error ? v.error.traceback : v.value) : v.stdout;
  const stderr = done ? withoutEcho(v.stderr, v.error?.traceback) : v.stderr;
  if (stdout) parts.push(stdout.replace(/\n$/, ""));
  if (stderr) parts.push(`[stderr]\n${stderr.replace(/\n$/, "")}`);
  if (done) {
    if (v.error) parts.push(`[error] ${v.error.type}: ${v.error.message}\n${v.error.traceback.replace(/\n$/, "")}`);
    else if (v.value !== null) parts.push(!parts.length ? v.value : v.value.includes("\n") ? `[value]\n${v.value}` : `[value] ${v.value}`);
    if (v.dropped) parts.push(`[pythond: ${v.dropped} bytes of output were over the session's cap and not kept]`);
  } else if (v.state === "running" || v.state === "queued") {
    parts.push(
      `[cell ${v.cellId} is still ${v.state}: nothing was interrupted and no output is lost. ` +
        `Call python_wait {"session": "${v.session}", "cell": "${v.cellId}"} for the rest, or python_interrupt to stop it.]`,
    );
  } else if (v.state === "idle") {
    parts.push(`[no cells in session ${v.session} yet]`);
  } else {
    parts.push(`[cell ${v.cellId}: ${v.state}${v.state === "evicted" ? " (its output was dropped to keep the session's memory bounded)" : ""}]`);
  }
  return parts.join("\n") || "[done: no output, no value]";
}

/** The images inline (or as links when big); those of a remote daemon (`remote`: its
 * host) are on its disk, not ours, and are named instead. */
async function imageContent(v: CellView, maxImage: number, remote: string | null): Promise<Content[]> {
  const out: Content[] = [];
  for (let i = 0; i < v.images.length; i++) {
    const path = v.images[i];
    const uri = imageUri(v.session, v.cellId!, i);
    if (remote) {
      out.push({ type: "text", text: `[image ${i} is at ${path} on the daemon's host ${remote}; this MCP server runs on another machine and cannot read it (run pythond mcp there for images)]` });
      continue;
    }
    try {
      const st = await stat(path);
      if (st.size <= maxImage) {
        out.push({ type: "image", data: (await readFile(path)).toString("base64"), mimeType: "image/png" });
        continue;
      }
      out.push({ type: "resource_link", uri, name: `image ${i} of cell ${v.cellId}`, mimeType: "image/png", description: `PNG, ${st.size} bytes (over the inline cap of ${maxImage})` });
    } catch {
      out.push({ type: "text", text: `[image saved at ${path} on the daemon's host; not readable here]` });
    }
  }
  return out;
}

export async function cellResult(v: CellView, maxImage: number, maxText: number, remote: string | null = null): Promise<ToolResult> {
  const content: Content[] = [{ type: "text", text: summary(v) }];
  if (v.state === "done" && v.cellId) {
    content.push(...(await imageContent(v, maxImage, remote)));
    for (const r of v.rich) content.push({ type: "text", text: r.text.length > maxText ? `${r.text.slice(0, maxText)}\n[pythond: ${r.mime} cut at ${maxText} characters]` : r.text });
  }
  return { content, ...(v.state === "done" && v.ok === false ? { isError: true } : {}) };
}
