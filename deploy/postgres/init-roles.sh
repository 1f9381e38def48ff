#!/usr/bin/env bash
# One PostgreSQL role per Lintas service, each the owner of its own schema and of nothing else;
# no service connects as a superuser. A service's credentials cannot read another service's
# schema (an agency's views, its audit log, the intake's idempotency answers).
#
# Run once as the database owner (Docker's postgres image runs it from
# /docker-entrypoint-initdb.d; Kubernetes runs it as a Job; tests/data_protection.rs runs this
# file itself). Idempotent. Connection from the usual libpq variables (PGHOST, PGUSER, …) and
# POSTGRES_DB; one password per service from LINTAS_DB_PASSWORD_<SERVICE>, for example
# LINTAS_DB_PASSWORD_IMIGRASI. Roles are named lintas_<service>, schemas <service>.
set -euo pipefail

db="${POSTGRES_DB:?set POSTGRES_DB: the database the services use}"
services="${LINTAS_DB_SERVICES:-registry intake imigrasi disnaker polri kejaksaan desa}"

for service in $services; do
  var="LINTAS_DB_PASSWORD_${service^^}"
  password="${!var:?set $var: the password of role lintas_$service}"
  # Values travel as psql variables (:'name' quotes them), never spliced into SQL text.
  psql -v ON_ERROR_STOP=1 -X -q --dbname "$db" \
    -v role="lintas_$service" -v schema="$service" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'role', :'password') \gexec
SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', :'schema', :'role') \gexec
SELECT format('ALTER SCHEMA %I OWNER TO %I', :'schema', :'role') \gexec
SELECT format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', :'schema') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'role') \gexec
SQL
done

# Nobody creates objects outside their own schema.
psql -v ON_ERROR_STOP=1 -X -q --dbname "$db" <<'SQL'
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
echo "PostgreSQL roles ready: $(for s in $services; do printf 'lintas_%s ' "$s"; done)"
