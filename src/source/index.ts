/**
 * The binlog client: a replication connection to MySQL/MariaDB (handshake by mysql2, replication protocol ours),
 * checksums, GTIDs, the start-up requirement check, and the event decoder.
 */
export { BinlogConnection, type DumpOptions, type RawEvent, type ConnectionStats } from './connection.js';
export {
  BinlogError,
  BinlogConnectionError,
  ChecksumError,
  ServerError,
  PurgedPositionError,
  ServerIdConflictError,
  ProtocolError,
  RequirementsError,
} from './errors.js';
export { MariaDbGtidState, MysqlGtidSet, parseGtidState, type GtidState } from './gtid.js';
export {
  checkRequirements,
  assertRequirements,
  type RequirementProblem,
  type RequirementsReport,
  type RequirementsOptions,
} from './requirements.js';
export {
  connectSql,
  getServerInfo,
  getBinlogEnd,
  listBinaryLogs,
  listReplicas,
  gtidStateAt,
  type ServerInfo,
  type SourceConnectionOptions,
} from './server-info.js';
export { BinlogDecoder } from './decoder/index.js';
export type * from './types.js';
