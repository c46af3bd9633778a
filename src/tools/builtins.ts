// Built-in tools shipped inside the agent (no upload): Exec, FileSystem, and FileSync (the
// remote half of upload/download). Their Python sources live in agent/pythond_tools/.
import { builtinTool } from "./load-tool.js";

export interface ExecResult {
  args: string[] | string;
  returncode: number;
  stdout: Uint8Array | string | null;
  stderr: Uint8Array | string | null;
}

/** Exec: options (check, env, cwd, stdin, capture_output, text) go as kwargs via callWith. */
export interface ExecApi {
  command(...args: string[]): ExecResult;
  shell(expr: string): ExecResult;
}

export interface FileStat {
  exists: boolean;
  type?: "file" | "dir" | "symlink" | "other";
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
}

export interface FileSystemApi {
  read_bytes(path: string): Uint8Array;
  read_str(path: string, encoding?: string): string;
  /** Atomic replace; true when changed. kwargs: owner, group. */
  write(path: string, content: string | Uint8Array, mode?: number): boolean;
  stat(path: string): FileStat;
  glob(path: string, pattern: string): string[];
  /** Unified diff of the change, or "" when the line was already there. kwargs: regexp, create. */
  line_in_file(path: string, line: string, regexp?: string | null, create?: boolean): string;
  directory(path: string, mode?: number): boolean;
  absent(path: string, recursive?: boolean): boolean;
}

export interface RemoteSignature {
  exists: boolean;
  type?: "file" | "other" | "symlink";
  size?: number;
  mode?: number;
  mtime_ns?: bigint;
  /** The quick check matched (same size and modification time): no blocks were hashed. */
  same?: boolean;
  blocks?: string[];
}

/** What FileSync.probe says a path is (the path itself, then what a symlink points to). */
export type PathKind = "missing" | "file" | "dir" | "symlink" | "other";

export interface FileSyncApi {
  signature(path: string, blockSize: number, quick?: { size: number; mtime_ns: bigint } | null, nofollow?: boolean): RemoteSignature;
  begin(path: string): string;
  apply(tmp: string, source: string, ops: unknown[]): number;
  commit(tmp: string, path: string, size: number, mode: number, mtimeNs?: bigint | null): boolean;
  attrs(path: string, mode: number, mtimeNs?: bigint | null): boolean;
  abort(tmp: string): boolean;
  chmod(path: string, mode: number): boolean;
  read(path: string, ranges: [number, number][]): Uint8Array[];
  tree(path: string): unknown;
  probe(paths: string[]): [PathKind, PathKind, number][];
  plan_tree(root: string, mode: number, entries: unknown[], force?: boolean): { todo: string[]; changed: number };
  mkdir(path: string, mode: number): boolean;
  symlink(target: string, path: string): boolean;
}

export const Exec = builtinTool<ExecApi>("pythond_tools.exec", "Exec");
export const FileSystem = builtinTool<FileSystemApi>("pythond_tools.filesystem", "FileSystem");
export const FileSync = builtinTool<FileSyncApi>("pythond_tools.filesync", "FileSync");
