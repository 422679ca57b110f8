#!/usr/bin/env bash
# Installs (Debian packages) and starts what the test suite needs and is not
# already there: PostgreSQL, MariaDB, Redis (shared services, started only if
# down), and the binaries tests start privately on loopback ports: slapd,
# nginx, chromium, tomcat10 + javac, php-fpm; and Ory Hydra for the OpenID
# interop suite, built once from its pinned tools module and cached
# (scripts/hydra.sh). Idempotent; safe to run on every `make test`.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1 || [[ -x "$1" ]]; }
have psql || need+=(postgresql postgresql-client)
have /usr/sbin/mariadbd || need+=(mariadb-server mariadb-client)
have redis-server || need+=(redis-server)
have /usr/sbin/slapd || need+=(slapd)
have ldapadd || need+=(ldap-utils)
have /usr/sbin/nginx || need+=(nginx)
have /usr/bin/chromium || need+=(chromium)
have openssl || need+=(openssl)
# Deployment artefacts (internal/opstest): systemd-analyze, podman, promtool.
have systemd-analyze || need+=(systemd)
have podman || need+=(podman buildah)
have promtool || need+=(prometheus)
# App servers of the gateway's differential path test (auth/gateway).
[[ -f /usr/share/tomcat10/bin/bootstrap.jar ]] || need+=(tomcat10) # a jar: not executable, so not `have`
have javac || need+=(default-jdk-headless)
compgen -G '/usr/sbin/php-fpm*' >/dev/null || need+=(php-fpm)
have gcc || need+=(gcc libc6-dev) # cgo SQLite of the Hydra build (scripts/hydra.sh)

if ((${#need[@]})); then
  echo "services: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

wait_for() { # name, command
  for _ in $(seq 1 60); do
    if eval "$2" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "services: $1 did not come up" >&2
  return 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  wait_for PostgreSQL "pg_isready -h 127.0.0.1 -p 5432 -q"
fi
psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='test'" 2>/dev/null | grep -q 1 ||
  psql -h 127.0.0.1 -U postgres -c "create database test" >/dev/null 2>&1 || true

if ! redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  echo "services: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no
  wait_for Redis "redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG"
fi

if ! mysql -h 127.0.0.1 -uroot -e 'select 1' >/dev/null 2>&1; then
  echo "services: starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for MariaDB "mysql -h 127.0.0.1 -uroot -e 'select 1'"
fi
mysql -h 127.0.0.1 -uroot -e 'create database if not exists test' >/dev/null 2>&1 || true
"$(dirname "$0")/axe.sh"
"$(dirname "$0")/hydra.sh"
echo "services: ready"
