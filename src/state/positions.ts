/** Consumer positions in the state database: where each durable consumer resumes. */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { ResumePosition } from '../capture/types.js';

/** The last transaction a consumer confirmed, or a start position written by `reset-positions`. */
export interface ConsumerPosition {
  consumer: string;
  /** GTID of the last confirmed transaction; null for a position set by a start form. */
  txid: string | null;
  /** Resume here to get the consumer's next transaction. */
  position: ResumePosition;
  /** Commit time of that transaction, unix seconds (null for a start position). */
  commitTime: number | null;
  updatedAt?: Date;
}

/** Reads and writes consumer positions. Writes are upserts; a batch is one statement. */
export class PositionStore {
  constructor(private readonly pool: Pool) {}

  /** The stored position of one consumer, or null when it has none (then `BRIDGE_START` decides). */
  async get(consumer: string): Promise<ConsumerPosition | null> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT * FROM consumer_position WHERE consumer = ?', [
      consumer,
    ]);
    return rows.length ? fromRow(rows[0]) : null;
  }

  /** Every stored position, by consumer name. */
  async list(): Promise<ConsumerPosition[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT * FROM consumer_position ORDER BY consumer');
    return rows.map(fromRow);
  }

  /** Saves positions in one statement (the checkpoint of several consumers, or one consumer's latest). */
  async save(positions: readonly ConsumerPosition[]): Promise<void> {
    if (positions.length === 0) return;
    const values = positions.map((p) => [
      p.consumer,
      p.txid,
      p.position.binlog.file,
      p.position.binlog.pos,
      p.position.gtidState ?? null,
      p.commitTime,
    ]);
    await this.pool.query(
      `INSERT INTO consumer_position (consumer, txid, binlog_file, binlog_pos, gtid_state, commit_time) VALUES ?
       ON DUPLICATE KEY UPDATE txid = VALUES(txid), binlog_file = VALUES(binlog_file), binlog_pos = VALUES(binlog_pos),
         gtid_state = VALUES(gtid_state), commit_time = VALUES(commit_time)`,
      [values],
    );
  }

  /** Removes a consumer's position (a deleted webhook); returns whether it existed. */
  async delete(consumer: string): Promise<boolean> {
    const [result] = await this.pool.query('DELETE FROM consumer_position WHERE consumer = ?', [consumer]);
    return (result as { affectedRows: number }).affectedRows > 0;
  }
}

function fromRow(row: RowDataPacket): ConsumerPosition {
  return {
    consumer: row.consumer,
    txid: row.txid ?? null,
    position: {
      binlog: { file: row.binlog_file, pos: Number(row.binlog_pos) },
      ...(row.gtid_state ? { gtidState: row.gtid_state } : {}),
    },
    commitTime: row.commit_time === null ? null : Number(row.commit_time),
    updatedAt: row.updated_at instanceof Date ? row.updated_at : new Date(row.updated_at),
  };
}
