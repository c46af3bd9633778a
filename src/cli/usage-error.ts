// A command line the CLI cannot take (exit 2): what was wrong, and the verb's usage line.
export class UsageError extends Error {
  override name = "UsageError";
  constructor(message: string, readonly usage?: string) {
    super(message);
  }
}
