// Where a cell's code comes from: the arguments after the session name taken verbatim
// (several joined by newlines, "--"-looking ones included), `-f FILE`, or `-` for stdin.
// Files and stdin are decoded as Python decodes source: a UTF-8 BOM, else a PEP 263 coding
// line in the first two lines, else strict UTF-8 (invalid bytes are an error, as in Python).
import { readFileSync } from "node:fs";
import { UsageError, CliError } from "./common.js";

const MAX_CODE = 64 * 1024 * 1024;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
// PEP 263: a comment line matching this regular expression, on line 1 or 2.
const CODING = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/;

/** Python codec names that TextDecoder spells differently. */
const ALIASES: Record<string, string> = { latin1: "iso-8859-1", "latin-1": "iso-8859-1", l1: "iso-8859-1", "iso-8859-1": "iso-8859-1", cp1252: "windows-1252", utf8: "utf-8" };

/** The encoding a coding line declares, or undefined. Line 2 counts only if line 1 is a comment or blank. */
function declaredEncoding(bytes: Buffer): string | undefined {
  const head = bytes.subarray(0, 1024).toString("latin1").split(/\r?\n|\r/, 2);
  for (let i = 0; i < head.length; i++) {
    const m = CODING.exec(head[i]);
    if (m) return m[1].toLowerCase();
    if (!/^[ \t\f]*(#.*)?$/.test(head[i])) return undefined;
  }
  return undefined;
}

/** Decode Python source bytes; `where` names them in errors. */
export function decodeSource(bytes: Buffer, where: string): string {
  if (bytes.subarray(0, 3).equals(BOM)) {
    const enc = declaredEncoding(bytes.subarray(3));
    if (enc && !/^utf[-_]?8/.test(enc)) throw new CliError("encoding", `${where}: encoding problem: ${enc} with BOM`);
    return strict(bytes.subarray(3), "utf-8", where);
  }
  const enc = declaredEncoding(bytes);
  if (!enc) return strict(bytes, "utf-8", where);
  const label = ALIASES[enc] ?? enc.replace(/_/g, "-");
  return strict(bytes, label, where, enc);
}

function strict(bytes: Buffer, label: string, where: string, declared?: string): string {
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    // iso-8859-1 as a TextDecoder label means windows-1252; Python's latin-1 maps every byte to U+00xx.
    if (label === "iso-8859-1") return bytes.toString("latin1");
    decoder = new TextDecoder(label, { fatal: true });
  } catch {
    throw new CliError("encoding", `${where}: unknown encoding: ${declared ?? label}`);
  }
  try {
    return decoder.decode(bytes);
  } catch {
    const line = firstBadLine(bytes, decoder.encoding);
    throw new CliError(
      "encoding",
      declared
        ? `${where}: not valid ${declared} (line ${line})`
        : `${where}: not valid UTF-8 (line ${line}); declare its encoding in a coding line (PEP 263), e.g. # -*- coding: latin-1 -*-`,
    );
  }
}

function firstBadLine(bytes: Buffer, encoding: string): number {
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      try {
        new TextDecoder(encoding, { fatal: true }).decode(bytes.subarray(start, i));
      } catch {
        return line;
      }
      line++;
      start = i + 1;
    }
  }
  return line;
}

/** The text a cell reads as its stdin (pysh run --stdin FILE, "-" for pysh's own stdin). */
export function inputFrom(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file === "-" ? 0 : file);
  } catch (e) {
    throw new CliError("io", `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (bytes.length > MAX_CODE) throw new CliError("too_large", `--stdin ${file} is larger than ${MAX_CODE} bytes`);
  return bytes.toString("utf8");
}

/** Which session of a proxy's remote daemon the code is for, as the request says it (see codeArgs). */
export interface Via {
  remote?: string;
  words?: string[];
}

/**
 * The code after the session name, and the explicit form through a proxy: "<remote> -f FILE"
 * and "<remote> -" name the remote session outright; several plain arguments also go as typed
 * ("words"), and the daemon takes the first as the remote session's name only if the session
 * is a proxy (else they are lines of code, as always).
 */
export function codeArgs(rest: string[]): { code: string; via: Via } {
  if ((rest[1] === "-f" && rest.length === 3) || (rest[1] === "-" && rest.length === 2)) return { code: codeFrom(rest.slice(1)), via: { remote: rest[0] } };
  if (rest.length >= 2 && rest[0] !== "-f") return { code: codeFrom(rest), via: { words: rest } };
  return { code: codeFrom(rest), via: {} };
}

export function codeFrom(args: string[]): string {
  if (!args.length) throw new UsageError("no code given (pass it as an argument, -f FILE, or - for stdin)");
  let code: string;
  if (args[0] === "-f") {
    if (args.length !== 2) throw new UsageError("-f takes exactly one file");
    let bytes: Buffer;
    try {
      bytes = readFileSync(args[1]);
    } catch (e) {
      throw new CliError("io", `cannot read ${args[1]}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (bytes.length > MAX_CODE) throw new CliError("too_large", `${args[1]} is larger than ${MAX_CODE} bytes`);
    code = decodeSource(bytes, args[1]);
  } else if (args.length === 1 && args[0] === "-") {
    const bytes = readFileSync(0);
    if (bytes.length > MAX_CODE) throw new CliError("too_large", `stdin is larger than ${MAX_CODE} bytes`);
    code = decodeSource(bytes, "stdin");
  } else code = args.join("\n");
  if (Buffer.byteLength(code) > MAX_CODE) throw new CliError("too_large", `code is larger than ${MAX_CODE} bytes`);
  return code;
}
