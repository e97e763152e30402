/**
 * Binlog event type codes and column type codes, as defined by MySQL (libbinlogevents/binlog_event.h,
 * include/field_types.h) and MariaDB (sql/log_event.h).
 */

/** Binlog event type codes (the byte at offset 4 of the common header). */
export const EventType = {
  UNKNOWN: 0,
  START_V3: 1,
  QUERY: 2,
  STOP: 3,
  ROTATE: 4,
  INTVAR: 5,
  RAND: 13,
  USER_VAR: 14,
  FORMAT_DESCRIPTION: 15,
  XID: 16,
  TABLE_MAP: 19,
  WRITE_ROWS_V1: 23,
  UPDATE_ROWS_V1: 24,
  DELETE_ROWS_V1: 25,
  INCIDENT: 26,
  HEARTBEAT: 27,
  IGNORABLE: 28,
  ROWS_QUERY: 29,
  WRITE_ROWS_V2: 30,
  UPDATE_ROWS_V2: 31,
  DELETE_ROWS_V2: 32,
  /** MySQL 5.6+ GTID. */
  GTID: 33,
  ANONYMOUS_GTID: 34,
  PREVIOUS_GTIDS: 35,
  TRANSACTION_CONTEXT: 36,
  VIEW_CHANGE: 37,
  XA_PREPARE: 38,
  PARTIAL_UPDATE_ROWS: 39,
  TRANSACTION_PAYLOAD: 40,
  /** MySQL 8.0.26+ heartbeat with TLV fields (64-bit position). */
  HEARTBEAT_V2: 41,
  GTID_TAGGED: 42,
  /** MariaDB: the SQL statement of the following rows events (sent when the dump asks for it). */
  ANNOTATE_ROWS: 160,
  BINLOG_CHECKPOINT: 161,
  /** MariaDB GTID: starts every event group. */
  MARIADB_GTID: 162,
  MARIADB_GTID_LIST: 163,
  START_ENCRYPTION: 164,
  QUERY_COMPRESSED: 165,
  WRITE_ROWS_COMPRESSED_V1: 166,
  UPDATE_ROWS_COMPRESSED_V1: 167,
  DELETE_ROWS_COMPRESSED_V1: 168,
  WRITE_ROWS_COMPRESSED: 169,
  UPDATE_ROWS_COMPRESSED: 170,
  DELETE_ROWS_COMPRESSED: 171,
} as const;

/** Column type codes (enum_field_types) as they appear in TABLE_MAP events. */
export const ColumnType = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  VARCHAR: 15,
  BIT: 16,
  TIMESTAMP2: 17,
  DATETIME2: 18,
  TIME2: 19,
  TYPED_ARRAY: 244,
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
  GEOMETRY: 255,
} as const;

/** Checksum algorithm announced by FORMAT_DESCRIPTION. */
export const ChecksumAlg = { OFF: 0, CRC32: 1, UNDEF: 255 } as const;

/** Rows event flag: last rows event of a statement. */
export const ROWS_FLAG_STMT_END = 0x0001;

/** MariaDB GTID event flags2 (sql/log_event.h, Gtid_log_event). */
export const MariaGtidFlag = {
  STANDALONE: 1,
  GROUP_COMMIT_ID: 2,
  TRANSACTIONAL: 4,
  ALLOW_PARALLEL: 8,
  WAITED: 16,
  DDL: 32,
  PREPARED_XA: 64,
  COMPLETED_XA: 128,
} as const;

/** Length of the v4 common event header. */
export const HEADER_LENGTH = 19;
/** Length of a CRC32 event checksum. */
export const CHECKSUM_LENGTH = 4;
