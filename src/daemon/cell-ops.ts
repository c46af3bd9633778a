// Cell operations both protocols share: run-and-collect, and poll of a stored result.
import type { Session, CellResult } from "../session/session.js";

export async function collectCell(session: Session, code: string, mode: string): Promise<{ result: CellResult; output: Buffer }> {
  const chunks: Buffer[] = [];
  const result = await session.run(code, mode, (_stream, data) => chunks.push(Buffer.from(data)));
  return { result, output: Buffer.concat(chunks) };
}

export function pollCell(session: Session, cellId?: string) {
  return session.poll(cellId);
}

export function backgroundOutput(session: Session, since: number) {
  return session.backgroundOutput(since);
}
