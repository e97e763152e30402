#!/usr/bin/env bash
# Installs (from Debian's packages) and starts what the test suite needs, when it is missing:
# mariadbd (tests start their own throwaway servers from it), RabbitMQ, Mosquitto (tests also start their own),
# Chromium (the console's browser test). Idempotent; safe to run on a machine that has them all.
set -euo pipefail

need=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server mariadb-client)
command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ] || need+=(rabbitmq-server)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
if [ "${BRIDGE_SKIP_BROWSER:-}" != "1" ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi

if [ ${#need[@]} -gt 0 ]; then
  echo "ensure-services: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin"

# RabbitMQ on 5672 (guest/guest): start it when nothing listens there.
if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
  echo "ensure-services: starting rabbitmq-server"
  rabbitmq-server -detached
  for _ in $(seq 1 60); do
    (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && break
    sleep 1
  done
fi
# rabbitmqctl must answer too (tests close connections from the broker side).
rabbitmqctl await_startup >/dev/null 2>&1 || true
echo "ensure-services: ready"
