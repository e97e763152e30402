/**
 * The capture engine: committed transactions from the binlog, with resumable positions and event cursors.
 */
export { BinlogReader, REPORT_HOST, type BinlogReaderOptions, type ReaderStats } from './reader.js';
export { TransactionAssembler, type AssemblerOptions } from './assembler.js';
export {
  encodeCursor,
  decodeCursor,
  cursorFor,
  cursorResumePosition,
  InvalidCursorError,
  type CursorData,
} from './cursor.js';
export { parseStartSpec, resolveStart, type StartSpec, type ResolvedStart } from './start-position.js';
export { InformationSchemaColumns, type CaptureLogger } from './column-names.js';
export type * from './types.js';
