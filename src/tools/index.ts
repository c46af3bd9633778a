// Tool SDK public surface (re-exported from the package root).
export { Remote, type RemoteOptions, type CallOptions, type RemoteLogRecord, type ResultOf, type ItemOf } from "./remote.js";
export { RemoteStream } from "./stream.js";
export { loadTool, builtinTool, toolFromSource, type ToolDef, type MethodRef, type ToolHandle } from "./load-tool.js";
export { RemoteError, RemoteClosedError, CodecError } from "./errors.js";
export { encodeValue, decodeValue } from "./codec.js";
export { Fleet, mapLimit, type FleetOptions, type FleetCallOptions, type HostResult } from "./fleet.js";
export { Exec, FileSystem, FileSync, type ExecApi, type ExecResult, type FileSystemApi, type FileStat, type FileSyncApi } from "./builtins.js";
export { uploadFile, downloadFile, TransferConflictError, type TransferOptions, type TransferResult, type TransferProgress } from "./transfer.js";
export { upload, download, uploadTree, downloadTree } from "./transfer-tree.js";
export { generateToolTypes } from "./types-gen.js";
