// A warm spare session agent (issue 2, "new to ready"). Starting an agent costs ~55 ms here
// (python3 -qui start, site, compiling the bundle), so after a session is created the daemon
// starts one more agent with the default settings (default python, the daemon's cwd, the
// default session env) under a reserved name; the next default `new` claims it by renaming
// it (agent op `claim`) instead of waiting for a fresh interpreter.
// Never leaked: the daemon kills it on stop (even with --keep-sessions), and a re-adopting
// daemon kills any agent still carrying the reserved name (SessionTable.adoptAll).
// PYTHOND_SPARE=0 turns it off (one less idle python process per daemon).
import { join } from "node:path";
import { Session, type SpawnSessionOptions } from "../session/session.js";
import { sessionStateDir } from "../util/paths.js";

/** The spare's name: never a valid session name (names.ts), so it can never clash or be listed. */
export const SPARE_NAME = ".spare";

export function spareEnabled(): boolean {
  return process.env.PYTHOND_SPARE !== "0";
}

export class Spare {
  private starting?: Promise<Session | undefined>;
  private stopped = false;

  constructor(private readonly options: () => SpawnSessionOptions) {}

  /** Start a spare unless one is ready or starting. Failures are silent: `new` then starts cold. */
  fill(): void {
    if (this.stopped || this.starting || !spareEnabled()) return;
    const p = Session.spawn({ ...this.options(), name: SPARE_NAME }).then(
      (s) => {
        s.onDeath(() => {
          if (this.starting === p) this.starting = undefined;
        });
        if (this.stopped) {
          void s.kill();
          return undefined;
        }
        return s;
      },
      () => {
        if (this.starting === p) this.starting = undefined;
        return undefined;
      },
    );
    this.starting = p;
  }

  /** Rename the spare into session `name`; undefined if there is none (the caller starts one cold).
   * A spare still starting is awaited: it is already further along than a fresh start. */
  async claim(name: string): Promise<Session | undefined> {
    const p = this.starting;
    if (!p) return undefined;
    this.starting = undefined;
    const s = await p;
    if (!s || s.isDead()) return undefined;
    try {
      await s.claim(name, join(sessionStateDir(name), "images"));
      return s;
    } catch {
      await s.kill();
      return undefined;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const p = this.starting;
    this.starting = undefined;
    const s = await p;
    if (s) await s.kill();
  }
}
