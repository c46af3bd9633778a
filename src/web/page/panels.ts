// The side panels: the daemon's sessions (left) and the open session's cells (right), with
// the output of the cell clicked. Built with DOM calls only: text is never parsed as HTML.
export interface SessionRow {
  name: string;
  state: string;
  python?: string;
  busy?: boolean;
  running?: string[];
  queued?: string[];
  memory?: number;
  reason?: string;
}

export interface CellRow {
  cell_id: string;
  mode: string;
  origin: string;
  state: string;
  duration: number | null;
  ok: boolean | null;
  title?: string;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
}

const mib = (n?: number) => (typeof n === "number" ? `${(n / 1048576).toFixed(0)} MiB` : "");

export function duration(s: number | null): string {
  if (s === null || s === undefined) return "";
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function renderSessions(list: HTMLElement, rows: SessionRow[], open: string | null, choose: (name: string) => void): void {
  list.replaceChildren();
  if (!rows.length) list.append(el("li", { class: "empty" }, "No sessions yet. Make one: pysh new work"));
  for (const s of rows) {
    const state = s.state !== "alive" ? s.state : s.busy ? "running" : "idle";
    const detail = [s.python ? `Python ${s.python}` : "", mib(s.memory), s.running?.length ? `cell ${s.running[0]}` : ""].filter(Boolean).join(" · ");
    const li = el(
      "li",
      { "data-session": s.name, class: `session ${state}${s.name === open ? " open" : ""}`, title: s.reason ?? "" },
      el("span", { class: "name" }, s.name),
      el("span", { class: `state ${state}` }, state),
      el("span", { class: "detail" }, detail),
    );
    li.addEventListener("click", () => choose(s.name));
    list.append(li);
  }
}

function cellState(c: CellRow): string {
  if (c.state !== "done") return c.state;
  return c.ok === false ? "error" : "ok";
}

export function renderCells(list: HTMLElement, cells: CellRow[], chosen: string | null, choose: (id: string) => void): void {
  list.replaceChildren();
  if (!cells.length) list.append(el("li", { class: "empty" }, "No cells yet."));
  for (const c of [...cells].reverse()) {
    const state = cellState(c);
    const li = el(
      "li",
      { "data-cell": c.cell_id, "data-state": state, class: `cell ${state}${c.cell_id === chosen ? " chosen" : ""}` },
      el("div", { class: "head" }, el("span", { class: `state ${state}` }, state), el("span", { class: "kind" }, `${c.origin} ${c.mode}`), el("span", { class: "took" }, duration(c.duration))),
      el("code", { class: "title" }, c.title || "(no code)"),
    );
    li.addEventListener("click", () => choose(c.cell_id));
    list.append(li);
  }
}

export function renderCellOutput(box: HTMLElement, r: Record<string, any>): void {
  const parts: (Node | string)[] = [el("div", { class: "head" }, `cell ${r.cell_id} · ${r.state}${r.duration != null ? " · " + duration(r.duration) : ""}`)];
  if (r.output) parts.push(el("pre", { class: "output" }, r.output));
  if (r.truncated) parts.push(el("div", { class: "note" }, "… more output: pysh poll <session> " + r.cell_id));
  if (r.value != null) parts.push(el("pre", { class: "value" }, String(r.value)));
  const tb = r.error ? String(r.error.traceback || `${r.error.type}: ${r.error.message}`) : "";
  if (tb && !String(r.output ?? "").includes(tb.trim())) parts.push(el("pre", { class: "error" }, tb)); // not twice: agent cells print it too
  if (parts.length === 1) parts.push(el("div", { class: "note" }, r.origin === "human" ? "typed at the prompt: its output is on the terminal" : "no output"));
  box.replaceChildren(...parts);
}
