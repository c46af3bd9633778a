// The shapes a client request deals in, shared by the structured client (client.ts) and its
// pythond 0.4 fallback (legacy-requests.ts).

export interface RequestHandlers {
  /** Cell output as it is produced: stream 1 = stdout, 2 = stderr. */
  output?(stream: number, data: Buffer): void;
  /** Intermediate events for this request (e.g. "waiting" from poll, "attached"). */
  event?(name: string, fields: Record<string, unknown>): void;
}

export interface CellOutcome {
  cell_id: string;
  ok: boolean;
  value: string | null;
  error: { type: string; message: string; traceback: string } | null;
  duration: number | null;
  dropped: number;
  /** PNG files saved for an image value (rich outputs). */
  images?: string[];
}

/** Speaks for a connection to a pythond 0.4 daemon (its text protocol). */
export interface LegacyBridge {
  request(op: string, fields: Record<string, unknown>, handlers: RequestHandlers): Promise<any>;
  sendRaw(data: Buffer | string): void;
}
