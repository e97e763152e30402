import type { Migration } from '../migrate.js';

/**
 * The webhook registry and its delivery log. A hook's position is a consumer position (`webhook:<id>`) like any other
 * durable consumer's, so `reset-positions` covers hooks too.
 */
export const webhooks: Migration = {
  version: 2,
  name: 'webhooks and deliveries',
  statements: [
    `CREATE TABLE webhook (
      id VARCHAR(40) NOT NULL PRIMARY KEY,
      url VARCHAR(2048) NOT NULL,
      guarantee ENUM('transactional','post-commit') NOT NULL,
      types TEXT NULL COMMENT 'JSON array of event types, NULL = every type but RowChanged',
      patient CHAR(36) NULL,
      description VARCHAR(1000) NULL,
      enabled TINYINT(1) NOT NULL DEFAULT 1,
      disabled_reason VARCHAR(1000) NULL,
      secret VARCHAR(200) NOT NULL,
      previous_secret VARCHAR(200) NULL,
      previous_secret_until BIGINT NULL COMMENT 'times are unix ms: no time zone to get wrong',
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    `CREATE TABLE webhook_delivery (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      hook_id VARCHAR(40) NOT NULL,
      message_id VARCHAR(300) NOT NULL COMMENT 'webhook-id header, stable across retries',
      txid VARCHAR(100) NOT NULL,
      event_ids MEDIUMTEXT NOT NULL COMMENT 'JSON array of the delivered event ids',
      status ENUM('pending','delivered','dead','skipped','gone','cancelled') NOT NULL,
      attempts INT NOT NULL DEFAULT 0,
      history TEXT NULL COMMENT 'JSON: the last attempts {at,status,latencyMs,error}',
      last_status SMALLINT NULL,
      last_latency_ms DOUBLE NULL,
      last_error TEXT NULL,
      first_attempt_at BIGINT NULL,
      last_attempt_at BIGINT NULL,
      next_attempt_at BIGINT NULL,
      finished_at BIGINT NULL,
      note VARCHAR(1000) NULL COMMENT 'why it was skipped or retried by hand',
      body LONGTEXT NULL COMMENT 'kept while pending and for dead letters, so they can be retried',
      content_type VARCHAR(64) NOT NULL,
      KEY hook_id_id (hook_id, id),
      KEY hook_status (hook_id, status)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  ],
};
