#!/usr/bin/env bash
# Installs and starts what the test suite needs on a fresh Debian machine, when missing:
#   - the AWS CLI v2 (Debian package awscli) at /usr/bin/aws, and boto3
#   - PostgreSQL (Debian package postgresql): the cluster "main" on 127.0.0.1:5432 with
#     a role and database for the tests, and a second cluster "coffer_outage" on
#     127.0.0.1:5433 that the outage test stops and starts (so stopping it never
#     disturbs tests that use "main").
# Idempotent and quiet when everything is present. The Makefile passes the DSNs
# printed by `scripts/test-setup.sh --print-env` to the tests.
set -euo pipefail

# The test role's password only protects a loopback test database.
PG_ROLE=coffer_test
PG_PASSWORD=coffer_test
PG_DB=coffer_test
PG_MAIN_PORT=5432
PG_OUTAGE_CLUSTER=coffer_outage
PG_OUTAGE_PORT=5433

pg_version() {
	# The newest installed server version (Debian: /usr/lib/postgresql/<ver>/bin/postgres).
	ls /usr/lib/postgresql 2>/dev/null | sort -V | while read -r v; do
		[ -x "/usr/lib/postgresql/$v/bin/postgres" ] && echo "$v"
	done | tail -n1
}

if [ "${1:-}" = "--print-env" ]; then
	v=$(pg_version)
	# Shell words (NAME='value'), for `env` or `export`.
	echo "COFFER_TEST_POSTGRES_DSN='postgres://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$PG_MAIN_PORT/$PG_DB?sslmode=disable'"
	echo "COFFER_TEST_POSTGRES_OUTAGE_DSN='postgres://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$PG_OUTAGE_PORT/$PG_DB?sslmode=disable'"
	echo "COFFER_TEST_POSTGRES_OUTAGE_CLUSTER='$v/$PG_OUTAGE_CLUSTER'"
	exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
		echo "test-setup: not root and no sudo; install missing packages yourself" >&2
	fi
fi

need=()
if ! /usr/bin/aws --version 2>/dev/null | grep -q '^aws-cli/2'; then need+=(awscli); fi
if ! python3 -c 'import boto3' 2>/dev/null; then need+=(python3-boto3); fi
if [ -z "$(pg_version)" ] || ! command -v pg_ctlcluster >/dev/null 2>&1; then need+=(postgresql); fi

if [ ${#need[@]} -gt 0 ]; then
	echo "test-setup: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
/usr/bin/aws --version

# --- PostgreSQL -------------------------------------------------------------
PGV=$(pg_version)
if [ -z "$PGV" ]; then
	echo "test-setup: no PostgreSQL server found after installing the postgresql package" >&2
	exit 1
fi

# cluster_up NAME PORT: create the cluster if missing (listening on loopback
# only) and start it if it is not running.
cluster_up() {
	local name=$1 port=$2
	if ! $SUDO pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$PGV $name"; then
		echo "test-setup: creating PostgreSQL cluster $PGV/$name on port $port"
		$SUDO pg_createcluster "$PGV" "$name" --port "$port" -- --auth-local=peer --auth-host=scram-sha-256 >/dev/null
		$SUDO sed -i "s/^#\?listen_addresses.*/listen_addresses = '127.0.0.1'/" "/etc/postgresql/$PGV/$name/postgresql.conf"
	fi
	local status
	status=$($SUDO pg_lsclusters -h | awk -v v="$PGV" -v n="$name" '$1==v && $2==n {print $4}')
	if [ "$status" != "online" ]; then
		$SUDO pg_ctlcluster --skip-systemctl-redirect "$PGV" "$name" start
	fi
}

# psql_as_postgres PORT SQL…: run SQL as the postgres superuser over the
# local socket (peer authentication).
psql_as_postgres() {
	local port=$1
	shift
	$SUDO runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres "$@"
}

# role_and_db PORT: the test role (password over TCP) and its database.
role_and_db() {
	local port=$1
	psql_as_postgres "$port" <<-SQL
		DO \$\$
		BEGIN
			IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_ROLE') THEN
				CREATE ROLE $PG_ROLE LOGIN PASSWORD '$PG_PASSWORD';
			ELSE
				ALTER ROLE $PG_ROLE LOGIN PASSWORD '$PG_PASSWORD';
			END IF;
		END
		\$\$;
	SQL
	if [ "$(psql_as_postgres "$port" -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != 1 ]; then
		psql_as_postgres "$port" -c "CREATE DATABASE $PG_DB OWNER $PG_ROLE"
	fi
}

# wait_ready PORT: until the server accepts connections (at most ~30 s).
wait_ready() {
	local port=$1 i
	for i in $(seq 1 60); do
		if $SUDO runuser -u postgres -- pg_isready -q -h 127.0.0.1 -p "$port"; then return 0; fi
		sleep 0.5
	done
	echo "test-setup: PostgreSQL on port $port did not become ready" >&2
	return 1
}

cluster_up main "$PG_MAIN_PORT"
cluster_up "$PG_OUTAGE_CLUSTER" "$PG_OUTAGE_PORT"
wait_ready "$PG_MAIN_PORT"
wait_ready "$PG_OUTAGE_PORT"
role_and_db "$PG_MAIN_PORT"
role_and_db "$PG_OUTAGE_PORT"
echo "test-setup: PostgreSQL $PGV ready (main on 127.0.0.1:$PG_MAIN_PORT, $PG_OUTAGE_CLUSTER on 127.0.0.1:$PG_OUTAGE_PORT)"
