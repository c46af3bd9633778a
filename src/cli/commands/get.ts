// pysh get <session> REMOTE [LOCAL] : copy a file or a directory tree from the session's host.
import { stat } from "node:fs/promises";
import { dirname, join, resolve, posix } from "node:path";
import { CliError, UsageError } from "../common.js";
import { copyVerb, namesDirectory, COPY_OPTIONS } from "../file-copy.js";
import { FileSync } from "../../tools/builtins.js";
import { downloadFile } from "../../tools/transfer.js";
import { downloadTree } from "../../tools/transfer-tree.js";

const USAGE = "pysh get [--json] [--force] [--timeout SECONDS] [--via PREFIX] <session> REMOTE [LOCAL]";

export const HELP = `usage: ${USAGE}

Copies the file or directory REMOTE from the host the session runs on (this machine for a
local session) to LOCAL, with block reuse: only what differs travels, and an unchanged tree
costs a couple of calls. A relative REMOTE starts in the session's working directory (the
one its cells see now); LOCAL defaults to REMOTE's name in the current directory.
  A file goes to LOCAL, or into it when LOCAL is a directory or ends with "/".
  A directory is copied as LOCAL (merged into it if it exists, so getting it again lands
  in the same place); LOCAL ending with "/" (or ".") copies it into that directory.
LOCAL's parent directory must exist. Modes and modification times are kept; symlinks in a
tree are copied as links (REMOTE itself is followed). Nothing is deleted that REMOTE lacks.
A file is never written over a directory, nor a directory over a file, unless --force,
which removes what is in the way first. A listing from the remote that names paths outside
LOCAL, or through a symlink, is refused.
${COPY_OPTIONS}`;

export const get = copyVerb("get", USAGE, HELP, async (host, from, to) => {
  const src = host.resolve(from);
  const [[, kind, mode]] = await host.remote.call(FileSync.probe, [src]);
  if (kind === "missing") throw new CliError("not_found", `${src}: no such file or directory on ${host.label}`);
  if (kind !== "file" && kind !== "dir") throw new CliError("unsupported", `${src}: not a regular file or directory on ${host.label}`);
  const name = posix.basename(src);
  const into = to !== undefined && namesDirectory(to);
  if (!name && (to === undefined || into)) throw new UsageError(`pysh get: ${from} has no name: give LOCAL, the name of the copy`, USAGE);
  const dest = resolve(to ?? name);
  const here = await stat(dest).catch(() => undefined);
  let target = dest;
  if (into || (kind === "file" && here?.isDirectory())) {
    if (!here?.isDirectory()) throw new CliError("not_found", `${to}: no such directory`);
    target = join(dest, name);
  } else if (!(await stat(dirname(dest)).catch(() => undefined))?.isDirectory()) throw new CliError("not_found", `${dirname(dest)}: no such directory`);
  return {
    source: from,
    target,
    calls: 1,
    run: (o) => (kind === "dir" ? downloadTree(host.remote, src, target, mode, o) : downloadFile(host.remote, src, target, o)),
  };
});
