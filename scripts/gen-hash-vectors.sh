#!/usr/bin/env bash
# Regenerates testdata/hash/vectors.jsonl with outside tools (see
# scripts/hashvectors/gen.py for the list). Needs the Debian packages
# openssl apache2-utils whois slapd php-cli python3-passlib python3-bcrypt
# python3-argon2 postgresql-client mariadb-client and the local PostgreSQL
# (a temporary database is created and dropped) and MariaDB (read-only).
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 scripts/hashvectors/gen.py testdata/hash/vectors.jsonl
