/** Ordering of binlog positions, the basis of every handover between readers. */
import type { BinlogPosition } from '../capture/types.js';

/**
 * Orders two positions of one server's binlog: by the file's numeric suffix (`mysql-bin.000009` < `mysql-bin.000010`,
 * also past 999999 where the names grow a digit), then by offset.
 */
export function compareBinlog(a: BinlogPosition, b: BinlogPosition): number {
  if (a.file !== b.file) {
    const na = fileIndex(a.file);
    const nb = fileIndex(b.file);
    if (na !== nb) return na < nb ? -1 : 1;
    return a.file < b.file ? -1 : 1;
  }
  return a.pos - b.pos;
}

/** The numeric suffix of a binlog file name (`mysql-bin.000042` -> 42), or -1 when it has none. */
export function fileIndex(file: string): number {
  const match = /\.(\d+)$/.exec(file);
  return match ? Number(match[1]) : -1;
}

/** One file of `SHOW BINARY LOGS`. */
export interface BinlogFile {
  name: string;
  size: number;
}

/**
 * Bytes of binlog from `from` to `to` (0 when `from` is at or past `to`), given the server's file list; files that
 * are no longer listed count as 0.
 */
export function binlogDistance(files: readonly BinlogFile[], from: BinlogPosition, to: BinlogPosition): number {
  if (compareBinlog(from, to) >= 0) return 0;
  if (from.file === to.file) return to.pos - from.pos;
  let bytes = 0;
  for (const file of files) {
    if (compareBinlog({ file: file.name, pos: 0 }, { file: from.file, pos: 0 }) < 0) continue;
    if (compareBinlog({ file: file.name, pos: 0 }, { file: to.file, pos: 0 }) > 0) break;
    if (file.name === from.file) bytes += Math.max(0, file.size - from.pos);
    else if (file.name === to.file) bytes += to.pos;
    else bytes += file.size;
  }
  return bytes;
}
