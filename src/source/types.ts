/**
 * Public types of the `source` module: what the binlog decoder hands to `capture`.
 *
 * Column values are decoded to what a `SELECT` with `dateStrings` shows, chosen to be exact and JSON-friendly:
 *
 * | column type | value |
 * |---|---|
 * | TINYINT..INT, YEAR | `number` |
 * | BIGINT (signed or unsigned) | `number` when it is a safe integer, else a decimal `string` (exact) |
 * | FLOAT, DOUBLE | `number` (FLOAT as the nearest double of the stored single) |
 * | DECIMAL | `string`, exact, e.g. `"-12.500"` |
 * | DATE | `"YYYY-MM-DD"` (`"0000-00-00"` for a zero date) |
 * | DATETIME | `"YYYY-MM-DD HH:MM:SS[.ffffff]"`, zoneless wall-clock, fraction digits = column precision |
 * | TIMESTAMP | `"YYYY-MM-DD HH:MM:SS[.ffffff]"` in UTC (`"0000-00-00 00:00:00"` for zero) |
 * | TIME | `"[-]HH:MM:SS[.ffffff]"` |
 * | CHAR, VARCHAR, TEXT with a text charset | `string` (utf8mb3/utf8mb4 as UTF-8, latin1 as cp1252, ...) |
 * | BINARY, VARBINARY, BLOB, text columns with the binary charset, GEOMETRY, BIT | `Buffer` |
 * | ENUM | the member's `string` (`""` for the invalid value 0) |
 * | SET | the members joined with `,` (as SELECT shows them) |
 * | JSON | the JSON text as a `string` (MySQL binary JSON is converted to text; MariaDB stores text) |
 * | NULL | `null` |
 */
export type ColumnValue = number | string | Buffer | null;

/** A row image keyed by column name. Never rely on column position: OpenMRS databases differ in column order. */
export type RowImage = Record<string, ColumnValue>;

/** One column of a TABLE_MAP, with what the optional metadata block (binlog_row_metadata=FULL) told us. */
export interface ColumnMeta {
  name: string;
  /** MySQL field type code (MYSQL_TYPE_*), the real type for ENUM/SET stored as STRING. */
  type: number;
  /** Type-specific metadata from the TABLE_MAP (length bytes, precision/scale, fsp, ...). */
  meta: number;
  nullable: boolean;
  unsigned: boolean;
  /** Character set/collation id for text columns; 63 = binary. */
  collation?: number;
  enumValues?: string[];
  setValues?: string[];
}

/** The schema of one table as the binlog describes it. */
export interface TableMap {
  tableId: number;
  schema: string;
  table: string;
  columns: ColumnMeta[];
  primaryKey: string[];
  /**
   * Where the column names came from: the binlog's metadata block, an information_schema lookup, or nowhere
   * (`position`: columns are named `@1`, `@2`, ... because neither knew them; a mapping error downstream).
   */
  namesFrom: 'binlog' | 'information_schema' | 'position';
}

/** The common header of every binlog event (19 bytes in v4). */
export interface EventHeader {
  timestamp: number;
  typeCode: number;
  serverId: number;
  eventSize: number;
  /** Position of the next event in the binlog file. */
  nextPosition: number;
  flags: number;
}

/** A binlog event after decoding. Events the bridge does not need decode as `other`. */
export type BinlogEvent =
  | {
      kind: 'format';
      header: EventHeader;
      serverVersion: string;
      /** Events after this one end in a CRC32 checksum. */
      checksum: boolean;
      /** Checksum algorithm byte: 0 off, 1 CRC32, 255 unknown (server predates checksums). */
      checksumAlg?: number;
      binlogVersion?: number;
    }
  | { kind: 'rotate'; header: EventHeader; file: string; position: number }
  | {
      kind: 'query';
      header: EventHeader;
      schema: string;
      query: string;
      threadId?: number;
      errorCode?: number;
    }
  | { kind: 'xid'; header: EventHeader; xid: bigint }
  /**
   * MariaDB GTID (`domain-server-seq`, starts a transaction; standalone = DDL without BEGIN) or MySQL GTID (`uuid:n`;
   * MySQL has no standalone flag: `standalone` is false and a DDL shows as a QUERY without BEGIN).
   */
  | {
      kind: 'gtid';
      header: EventHeader;
      gtid: string;
      standalone: boolean;
      flavor: 'mariadb' | 'mysql';
      /** MariaDB flags2 (FL_STANDALONE 1, FL_GROUP_COMMIT_ID 2, FL_TRANSACTIONAL 4, ..., FL_DDL 32) or MySQL flags. */
      flags?: number;
      /** MariaDB group commit id, when FL_GROUP_COMMIT_ID is set. */
      commitId?: string;
      /** MySQL: the commit time in microseconds since the epoch (8.0.1+), when present. */
      commitMicros?: number;
      /** MySQL: transaction length in bytes including this event (8.0.2+), when present. */
      transactionLength?: number;
    }
  | { kind: 'gtid_list'; header: EventHeader; gtids: string[] }
  | { kind: 'annotate_rows'; header: EventHeader; query: string }
  | { kind: 'table_map'; header: EventHeader; table: TableMap }
  | {
      kind: 'rows';
      header: EventHeader;
      op: 'insert' | 'update' | 'delete';
      table: TableMap;
      /** insert/delete: `after`/`before` only; update: both. */
      rows: Array<{ before: RowImage | null; after: RowImage | null }>;
      /** Set on the last rows event of a statement. */
      statementEnd: boolean;
    }
  /** Sent by the server when idle; `position` is where the reader stands in `file`. */
  | { kind: 'heartbeat'; header: EventHeader; file: string; position?: number }
  | { kind: 'other'; header: EventHeader };
