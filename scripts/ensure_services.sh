#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1 for the test suite, starting them when they
# are installed but stopped. Exits non-zero with a clear message when one is missing.
set -uo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }
wait_for() { for _ in $(seq 1 60); do "$1" && return 0; sleep 0.5; done; return 1; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is not answering; starting it"
    for version in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
    wait_for pg_up || { echo "ERROR: PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1; }
  else
    echo "ERROR: PostgreSQL is not running on 127.0.0.1:5432 and is not installed (apt-get install postgresql)" >&2
    exit 1
  fi
fi

if ! redis_up; then
  if command -v redis-server >/dev/null; then
    echo "Redis is not answering; starting it"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for redis_up || { echo "ERROR: Redis did not come up on 127.0.0.1:6379" >&2; exit 1; }
  else
    echo "ERROR: Redis is not running on 127.0.0.1:6379 and is not installed (apt-get install redis-server)" >&2
    exit 1
  fi
fi


# The development database (the test database is created by pytest-django next to it).
if ! psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='wildfire_cs'" | grep -q 1; then
  createdb -h 127.0.0.1 -U postgres wildfire_cs && echo "created database wildfire_cs"
fi
echo "PostgreSQL and Redis are up on 127.0.0.1"
