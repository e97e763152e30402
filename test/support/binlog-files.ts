/**
 * Reads binlog FILES from a throwaway server's datadir: a file is the 4-byte magic `\xfebin` then events back to
 * back, each event's size at offset 9 of its header. Lets decoder tests run without the network client.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MariaDbServer } from './mariadb.js';

const MAGIC = Buffer.from([0xfe, 0x62, 0x69, 0x6e]);

/** One raw event inside a file buffer. */
export interface RawEvent {
  file: string;
  buf: Buffer;
  offset: number;
  length: number;
}

/** The binlog file names of the server, oldest first (from its index file). */
export async function binlogFiles(db: MariaDbServer): Promise<string[]> {
  const dir = join(db.datadir, 'data');
  const names = (await readdir(dir)).filter((n) => /^mysql-bin\.\d+$/.test(n));
  return names.sort();
}

/** Splits one binlog file into its events. */
export function* eventsOf(file: string, buf: Buffer): Generator<RawEvent> {
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) throw new Error(`${file} is not a binlog file`);
  let pos = 4;
  while (pos + 19 <= buf.length) {
    const length = buf.readUInt32LE(pos + 9);
    if (length < 19 || pos + length > buf.length) break; // a partly written tail
    yield { file, buf, offset: pos, length };
    pos += length;
  }
}

/** Flushes the binary logs (so the files are complete) and returns every event of every file, in order. */
export async function readAllEvents(db: MariaDbServer): Promise<RawEvent[]> {
  await db.query('FLUSH BINARY LOGS');
  const out: RawEvent[] = [];
  for (const name of await binlogFiles(db)) {
    const buf = await readFile(join(db.datadir, 'data', name));
    for (const ev of eventsOf(name, buf)) out.push(ev);
  }
  return out;
}
