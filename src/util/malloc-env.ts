// glibc malloc settings for the daemon process, given in the environment of the daemons we
// start (autostart.ts): glibc reads them once, when the process starts.
//
// Why: after a large cell the daemon's RSS stayed tens of MiB above idle (issue 9, item 14).
// Buffers of 1 MiB and more (output frames, their WebSocket messages) begin as mmaps, but
// glibc raises its mmap threshold to the size of each such buffer freed, so the next ones come
// from the brk heap, which can only shrink from its top: a few small live allocations above
// freed megabytes pin them. A fixed threshold keeps buffers of 32 KiB and more in mmaps of
// their own, returned to the system when freed (docs/PERFORMANCE.md, "Daemon memory").
// 32 KiB, not 128: a large request (a 60 MB `run -f`) arrives on a socket the HTTP server
// accepted, read in chunks of up to 64 KiB, and every partial read copied into a buffer of its
// own size, mostly 32-64 KiB; below the threshold they pinned ~57 MiB of brk heap. The daemon's
// round trips measured the same at 32 KiB; given to the sessions too, theirs got 20-30 %
// slower, one more reason the sessions do not inherit it.
// The daemon takes the setting out of its environment again (forgetDaemonMallocEnv), so that
// session interpreters, whose allocation patterns are the user's, keep glibc's default.

/** Marks the setting as ours (a user's own MALLOC_MMAP_THRESHOLD_ is left alone). */
const MARK = "PYTHOND_DAEMON_MALLOC";

/** The variables for a daemon we start, given the environment it would inherit. */
export function daemonMallocEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  if (env.MALLOC_MMAP_THRESHOLD_ !== undefined) return {};
  return { MALLOC_MMAP_THRESHOLD_: String(32 * 1024), [MARK]: "1" };
}

/** In the daemon, once started: its children do not inherit the setting we gave it. */
export function forgetDaemonMallocEnv(): void {
  if (process.env[MARK] !== "1") return;
  delete process.env[MARK];
  delete process.env.MALLOC_MMAP_THRESHOLD_;
}
