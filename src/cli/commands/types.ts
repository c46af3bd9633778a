// `pythond types <tool.py>...`: print TypeScript interfaces for the Tool classes in Python files.
import { existsSync } from "node:fs";
import { generateToolTypes } from "../../tools/types-gen.js";

const USAGE = `usage: pythond types [--python PATH] FILE.py [FILE.py ...]

Prints TypeScript interfaces generated from the Tool classes in each file (parsed, not run):
one "<Class>Api" interface per Tool class, plus dataclasses (interfaces) and enums (unions).
Use with loadTool<SystemInfoApi>("tools/system_info.py", "SystemInfo").

  --python PATH   interpreter used to parse the files (default python3)
  -h, --help      show this help

Exit status: 0 success, 1 a file could not be read or parsed, 2 bad usage.
`;

export async function typesCommand(argv: string[]): Promise<number> {
  let python = "python3";
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h" || a === "--help") {
      process.stdout.write(USAGE);
      return 0;
    }
    if (a === "--python") {
      const v = argv[++i];
      if (!v) {
        process.stderr.write("pythond types: --python needs a path\n" + USAGE);
        return 2;
      }
      python = v;
    } else if (a.startsWith("-")) {
      process.stderr.write(`pythond types: unknown option ${a}\n` + USAGE);
      return 2;
    } else files.push(a);
  }
  if (!files.length) {
    process.stderr.write("pythond types: no input file\n" + USAGE);
    return 2;
  }
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
}
