// What ops and protocol adapters share: the session table, the access log, daemon-wide limits.
import type { SessionTable } from "./session-table.js";
import type { AccessLog } from "./access-log.js";
import type { WebSocket } from "ws";

export interface StopOptions {
  keepSessions: boolean;
  closeCode?: number;
}

export interface DaemonContext {
  table: SessionTable;
  log: AccessLog;
  maxMessage: number;
  startedAt: number;
  socket: string;
  /** The TCP listener's address as bound ("host:port") and whether it is TLS: what
   * `pyctl restart` starts the next daemon with. */
  listening?: { listen: string; tls: boolean };
  stop(opts: StopOptions): void;
}

export interface ConnInfo {
  id: number;
  peer: string;
  protocol: string;
  /** Runs once the current reply is sent (e.g. stop after "OK stopping daemon"). */
  afterReply?: () => void;
  /** When set, raw messages go here first (attach mode); return true to consume. */
  onMessage?: (data: Buffer, isBinary: boolean) => boolean;
  /** The connection itself (attach writes to it after taking it over). */
  ws?: WebSocket;
}
