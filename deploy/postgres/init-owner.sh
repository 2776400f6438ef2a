#!/bin/sh
# Runs once, when the compose trial's PostgreSQL starts on an empty volume: the servers get their own
# role that owns the database but is no superuser, so the row-level security of migration 0026 binds
# them (a superuser would pass through every policy).
set -eu
psql -v ON_ERROR_STOP=1 -v owner_password="$APP_ROLE_PASSWORD" --username "$POSTGRES_USER" --dbname postgres <<'SQL'
CREATE ROLE jijiao LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD :'owner_password';
CREATE DATABASE jijiao OWNER jijiao;
SQL
