-- The bridge's user with the grants of docs/getting-started.md (the compose file's MariaDB runs this once, on an
-- empty data volume). Change the password together with BRIDGE_SOURCE_URL in docker-compose.yml.
CREATE USER IF NOT EXISTS 'bridge'@'%' IDENTIFIED BY 'bridge-secret';
GRANT REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR ON *.* TO 'bridge'@'%';
GRANT SELECT ON `openmrs`.* TO 'bridge'@'%';
CREATE DATABASE IF NOT EXISTS `openmrs_event_bridge`;
GRANT ALL PRIVILEGES ON `openmrs_event_bridge`.* TO 'bridge'@'%';
