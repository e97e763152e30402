import type { Migration } from '../migrate.js';

/** Consumer positions: the last transaction each durable consumer confirmed (CONTRACT section 1). */
export const positions: Migration = {
  version: 1,
  name: 'consumer positions',
  statements: [
    `CREATE TABLE consumer_position (
      consumer VARCHAR(191) NOT NULL PRIMARY KEY COMMENT 'amqp, mqtt, webhook:<id>',
      txid VARCHAR(128) NULL COMMENT 'GTID of the last confirmed transaction; NULL for a start position',
      binlog_file VARCHAR(255) NOT NULL,
      binlog_pos BIGINT UNSIGNED NOT NULL,
      gtid_state TEXT NULL COMMENT 'GTID state after that transaction',
      commit_time BIGINT NULL COMMENT 'unix seconds',
      updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  ],
};
