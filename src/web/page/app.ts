// The page: sessions on the left, the open session's terminal in the middle (read-only until
// "Take the keyboard"), its cells and an Interrupt button on the right. Talks to the bridge
// (src/web/bridge.ts) over one WebSocket that reconnects and resumes by itself.
import { stampStyleNonce } from "./style-nonce";
import { Connection, type ServerMessage } from "./connection";
import { Screen, type Attached } from "./screen";
import { el, renderSessions, renderCells, renderCellOutput, type SessionRow, type CellRow } from "./panels";

stampStyleNonce((document.currentScript as HTMLScriptElement | null)?.nonce ?? "");

const CTRL_RIGHT_BRACKET = "\x1d";
const hash = new URLSearchParams(location.hash.slice(1));
if (hash.has("token")) {
  // Already signed in, yet the address still carries the token: take it out of the address bar.
  hash.delete("token");
  history.replaceState(null, "", "/" + (hash.toString() ? "#" + hash : ""));
}

// -- layout ---------------------------------------------------------------------------------
const status = el("span", { id: "conn", class: "badge connecting" }, "connecting…");
const title = el("span", { id: "title" }, "no session open");
const keyboard = el("button", { id: "keyboard", type: "button", disabled: "" }, "Take the keyboard");
const interrupt = el("button", { id: "interrupt", type: "button", disabled: "", title: "KeyboardInterrupt in the running cell" }, "Interrupt");
const detach = el("button", { id: "detach", type: "button", disabled: "" }, "Detach");
const mode = el("span", { id: "mode", class: "mode readonly" }, "read-only");
const sessionList = el("ul", { id: "sessions" });
const cellList = el("ul", { id: "cells" });
const cellOutput = el("div", { id: "cell-output" }, el("div", { class: "note" }, "Click a cell for its output."));
const termBox = el("div", { id: "terminal" });
const toast = el("div", { id: "toast", role: "status" });
document.body.append(
  el("header", {}, el("strong", {}, "pythond"), title, mode, keyboard, interrupt, detach, status),
  el(
    "div",
    { class: "main" },
    el("nav", {}, el("h2", {}, "Sessions"), sessionList),
    el("section", { class: "screen" }, termBox),
    el("aside", {}, el("h2", {}, "Cells"), cellList, el("h2", {}, "Output"), cellOutput),
  ),
  toast,
);

// -- state ----------------------------------------------------------------------------------
const screen = new Screen(termBox);
let open: string | null = hash.get("session"); // the session shown (and re-attached after a drop)
let attached = false;
let writable = false;
let sessions: SessionRow[] = [];
let cells: CellRow[] = [];
let chosenCell: string | null = null;
let toastTimer: number | undefined;

function say(text: string): void {
  toast.textContent = text;
  toast.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => toast.classList.remove("show"), 6000);
}

function setWritable(on: boolean): void {
  writable = on;
  screen.term.options.disableStdin = !on;
  keyboard.textContent = on ? "Give back the keyboard" : "Take the keyboard";
  mode.textContent = on ? "you have the keyboard" : "read-only";
  mode.className = `mode ${on ? "writable" : "readonly"}`;
  if (on) screen.term.focus();
}

function refreshControls(): void {
  for (const b of [keyboard, interrupt, detach]) b.toggleAttribute("disabled", !attached);
  title.textContent = open ? `session ${open}` : "no session open";
  renderSessions(sessionList, sessions, open, choose);
}

function attach(): void {
  if (!open) return;
  const { rows, cols } = screen.term;
  conn.send({ t: "keyboard", on: writable });
  conn.send({ t: "attach", session: open, rows, cols, ...(screen.screenId ? { from: screen.offset, screen: screen.screenId } : {}) });
}

function choose(name: string): void {
  if (name === open && attached) return;
  const switching = attached;
  open = name;
  screen.forget();
  cells = [];
  chosenCell = null;
  renderCells(cellList, cells, null, showCell);
  history.replaceState(null, "", "/#session=" + encodeURIComponent(name));
  if (switching) conn.send({ t: "detach" }); // "detached" then attaches the new one
  else attach();
  refreshControls();
}

function showCell(id: string): void {
  chosenCell = id;
  renderCells(cellList, cells, chosenCell, showCell);
  conn.send({ t: "cell", cell: id });
}

// -- the connection -------------------------------------------------------------------------
const conn = new Connection({
  state(s, detail) {
    status.className = `badge ${s}`;
    status.textContent = s === "open" ? "connected" : s === "connecting" ? "connecting…" : `reconnecting… (${detail})`;
    document.documentElement.dataset.connection = s;
    if (s !== "open") {
      attached = false;
      refreshControls();
    }
  },
  screen(bytes) {
    screen.write(bytes);
  },
  message(m: ServerMessage) {
    switch (m.t) {
      case "ready":
        if (open) attach();
        return;
      case "sessions":
        sessions = m.sessions;
        return refreshControls();
      case "attached":
        if (m.session !== open) return;
        screen.attached(m as unknown as Attached);
        attached = true;
        document.documentElement.dataset.attached = m.resumed ? "resumed" : "fresh";
        screen.fit();
        conn.send({ t: "resize", rows: screen.term.rows, cols: screen.term.cols });
        return refreshControls();
      case "detached":
        attached = false;
        if (open && open !== m.session) attach(); // switching sessions
        else {
          say(`detached from ${m.session} (${m.reason})`);
          open = null;
          screen.forget();
          history.replaceState(null, "", "/");
        }
        return refreshControls();
      case "cells":
        if (m.session !== open) return;
        cells = m.cells;
        return renderCells(cellList, cells, chosenCell, showCell);
      case "cell":
        if (m.cell_id === chosenCell) renderCellOutput(cellOutput, m);
        return;
      case "keyboard":
        return setWritable(m.on === true);
      case "int":
        return say(m.message);
      case "error":
        if (m.session && m.session === open) {
          open = null;
          refreshControls();
        }
        return say(m.message);
      case "warning":
        return say(m.message);
    }
  },
});

screen.term.onData((data) => {
  if (!attached) return;
  if (data.includes(CTRL_RIGHT_BRACKET)) return conn.send({ t: "detach" });
  if (writable) conn.sendKeys(new TextEncoder().encode(data));
});
screen.term.onBinary((data) => {
  if (attached && writable) conn.sendKeys(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff));
});
screen.term.onResize(({ rows, cols }) => conn.send({ t: "resize", rows, cols }));
window.addEventListener("resize", () => screen.fit());
keyboard.addEventListener("click", () => conn.send({ t: "keyboard", on: !writable }));
interrupt.addEventListener("click", () => conn.send({ t: "int" }));
detach.addEventListener("click", () => conn.send({ t: "detach" }));

setWritable(false);
refreshControls();
conn.open();

// What a test (or a curious person in the console) can read: the whole terminal buffer.
(window as unknown as { pythondWeb: unknown }).pythondWeb = {
  screenText: () => screen.text(),
  offset: () => screen.offset,
  size: () => ({ rows: screen.term.rows, cols: screen.term.cols }),
};
