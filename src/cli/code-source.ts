// Where a cell's code comes from: the arguments after the session name taken verbatim
// (several joined by newlines, "--"-looking ones included), `-f FILE`, or `-` for stdin.
import { readFileSync } from "node:fs";
import { UsageError } from "./common.js";

const MAX_CODE = 64 * 1024 * 1024;

function readStdin(): string {
  return readFileSync(0, "utf8");
}

export function codeFrom(args: string[]): string {
  if (!args.length) throw new UsageError("no code given (pass it as an argument, -f FILE, or - for stdin)");
  let code: string;
  if (args[0] === "-f") {
    if (args.length !== 2) throw new UsageError("-f takes exactly one file");
    try {
      code = readFileSync(args[1], "utf8");
    } catch (e) {
      throw new Error(`cannot read ${args[1]}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  } else if (args.length === 1 && args[0] === "-") {
    code = readStdin();
  } else code = args.join("\n");
  if (Buffer.byteLength(code) > MAX_CODE) throw new Error(`code is larger than ${MAX_CODE} bytes`);
  return code;
}
