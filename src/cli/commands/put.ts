// pysh put <session> LOCAL [REMOTE] : copy a file or a directory tree to the session's host.
import { stat } from "node:fs/promises";
import { basename, resolve, posix } from "node:path";
import { CliError, UsageError } from "../common.js";
import { copyVerb, namesDirectory, COPY_OPTIONS } from "../file-copy.js";
import { FileSync } from "../../tools/builtins.js";
import { uploadFile } from "../../tools/transfer.js";
import { uploadTree } from "../../tools/transfer-tree.js";

const USAGE = "pysh put [--json] [--force] [--timeout SECONDS] [--via PREFIX] <session> LOCAL [REMOTE]";

export const HELP = `usage: ${USAGE}

Copies the file or directory LOCAL to the host the session runs on (this machine for a
local session), with block reuse: only what differs travels, and an unchanged tree costs a
couple of calls. REMOTE defaults to LOCAL's name in the session's working directory; a
relative REMOTE starts there too (the directory the session's cells see now).
  A file goes to REMOTE, or into it when REMOTE is a directory or ends with "/".
  A directory is copied as REMOTE (merged into it if it exists, so putting it again lands
  in the same place); REMOTE ending with "/" (or ".") copies it into that directory.
REMOTE's parent directory must exist. Modes and modification times are kept; symlinks in a
tree are copied as links (LOCAL itself is followed); sockets and FIFOs are skipped. Nothing
is deleted that LOCAL lacks. A file is never written over a directory, nor a directory over
a file, unless --force, which removes what is in the way first.
${COPY_OPTIONS}`;

export const put = copyVerb("put", USAGE, HELP, async (host, from, to) => {
  const local = resolve(from);
  const st = await stat(local).catch((e) => {
    throw e.code === "ENOENT" ? new CliError("not_found", `${from}: no such file or directory`) : e;
  });
  if (!st.isFile() && !st.isDirectory()) throw new CliError("unsupported", `${from}: not a regular file or directory`);
  const name = basename(local);
  const into = to !== undefined && namesDirectory(to);
  if (!name && (to === undefined || into)) throw new UsageError(`pysh put: ${from} has no name: give REMOTE, the name of the copy`, USAGE);
  const dest = host.resolve(to ?? name);
  const [[, kind], [, parentKind]] = await host.remote.call(FileSync.probe, [dest, posix.dirname(dest)]);
  let target = dest;
  if (into || (st.isFile() && kind === "dir")) {
    if (kind !== "dir") throw new CliError("not_found", `${dest}: no such directory on ${host.label}`);
    target = posix.join(dest, name);
  } else if (parentKind !== "dir") throw new CliError("not_found", `${posix.dirname(dest)}: no such directory on ${host.label}`);
  return {
    source: from,
    target,
    calls: 1,
    run: (o) => (st.isDirectory() ? uploadTree(host.remote, local, target, o) : uploadFile(host.remote, local, target, o)),
  };
});
