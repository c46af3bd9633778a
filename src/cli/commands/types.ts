// `pythond types <tool.py>...`: print TypeScript interfaces for the Tool classes in Python files.
import { existsSync } from "node:fs";
import { generateToolTypes } from "../../tools/types-gen.js";
import { verb, UsageError } from "../common.js";

const USAGE = `usage: pythond types [--python PATH] FILE.py [FILE.py ...]

Prints TypeScript interfaces generated from the Tool classes in each file (parsed, not run):
one "<Class>Api" interface per Tool class, plus dataclasses (interfaces) and enums (unions).
Use with loadTool<SystemInfoApi>("tools/system_info.py", "SystemInfo").

  --python PATH   interpreter used to parse the files (default python3)
  -h, --help      show this help

Exit status: 0 success, 1 a file could not be read or parsed, 2 bad usage.
`;

export const typesCommand = verb(
  { usage: "pythond types [--python PATH] FILE.py [FILE.py ...]", help: USAGE, options: { "--python": "value" } },
  async ({ opts, args: files }) => {
    const python: string = opts.python ?? "python3";
    if (!files.length) throw new UsageError("pythond types: no input file", "pythond types [--python PATH] FILE.py [FILE.py ...]");
    let status = 0;
    for (const file of files) {
      if (!existsSync(file)) {
        process.stderr.write(`pythond types: ${file}: no such file\n`);
        status = 1;
        continue;
      }
      try {
        process.stdout.write(await generateToolTypes(file, python));
      } catch (e) {
        process.stderr.write(`pythond types: ${(e as Error).message}\n`);
        status = 1;
      }
    }
    return status;
  },
);
