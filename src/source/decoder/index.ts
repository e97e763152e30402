/** The binlog event decoder: raw event bytes -> typed events of `../types.ts`. */
export { BinlogDecoder, type BinlogDecoderOptions } from './decoder.js';
export { BinlogDecodeError } from './bytes.js';
export { EventType, ColumnType, ChecksumAlg } from './constants.js';
export type { FormatDescription } from './events.js';
export type { ColumnResolver, ResolvedColumn } from './table-map.js';
