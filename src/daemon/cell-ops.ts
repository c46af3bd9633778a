// Cell operations both protocols share: run-and-collect, and poll of a stored result.
import type { Session, CellResult } from "../session/session.js";

export async function collectCell(session: Session, code: string, mode: string): Promise<{ result: CellResult; output: Buffer }> {
  const chunks: Buffer[] = [];
  const result = await session.run(code, mode, (_stream, data) => chunks.push(Buffer.from(data)));
  return { result, output: Buffer.concat(chunks) };
}

export interface PolledCell extends Partial<CellResult> {
  state: string;
  output: Buffer;
  chunks: { stream: number; data: Buffer }[];
}

export async function pollCell(session: Session, cellId?: string): Promise<PolledCell> {
  const reply = await session.control("poll", cellId ? { cell: cellId } : {});
  const streams: number[] = reply.result.streams ?? [];
  const chunks = reply.blobs.map((data, i) => ({ stream: streams[i] ?? 1, data }));
  return { ...reply.result, output: Buffer.concat(reply.blobs), chunks };
}

export interface BackgroundOutput {
  /** Pass as "since" next time: the byte offset after the last byte returned. */
  seq: number;
  since: number;
  /** Bytes after "since" that the agent's bounded log no longer holds. */
  dropped: number;
  chunks: { stream: "stdout" | "stderr"; text: string }[];
}

/** Output of no cell (threads and children of ended cells), from the agent's bounded log. */
export async function backgroundOutput(session: Session, since: number): Promise<BackgroundOutput> {
  const reply = await session.control("output", { since });
  const streams: number[] = reply.result.streams ?? [];
  const chunks = reply.blobs.map((data, i) => ({ stream: streams[i] === 2 ? ("stderr" as const) : ("stdout" as const), text: data.toString("utf8") }));
  return { seq: reply.result.seq, since: reply.result.since, dropped: reply.result.dropped, chunks };
}
