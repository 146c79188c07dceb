#!/bin/sh
# Prove a backup restores: load a dump into a scratch database, check the schema is current and the
# data is there with `python -m qidash info`, then drop the scratch database. Run it monthly, and
# after any change to PostgreSQL or to the backup job. A backup never restored is not a backup.
#
#   deploy/restore-test.sh /var/backups/qidash/qidash-20261123T021500Z.dump
# Needs createdb/dropdb rights (PG* variables as for backup.sh); QIDASH_PYTHON is the app's Python.
set -eu

dump=${1:?usage: restore-test.sh DUMP_FILE}
python=${QIDASH_PYTHON:-/opt/qidash/.venv/bin/python}
app=${QIDASH_HOME:-/opt/qidash}
scratch=qidash_restore_test_$(date -u +%Y%m%d%H%M%S)
host=${PGHOST:-127.0.0.1}
port=${PGPORT:-5432}
user=${PGUSER:-qidash}

createdb "$scratch"
trap 'dropdb --if-exists "$scratch"' EXIT
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$scratch" "$dump"
# The password, if any, comes from PGPASSFILE, which psycopg reads too.
cd "$app"
info=$("$python" -m qidash info --db "postgresql+psycopg://$user@$host:$port/$scratch")
echo "$info"
echo "$info" | grep -q "Schema:   up to date" || { echo "restore test: schema not current" >&2; exit 1; }
organisations=$(psql -Atq --dbname="$scratch" -c "select count(*) from organisation")
[ "$organisations" -gt 0 ] || { echo "restore test: no organisations in the restored data" >&2; exit 1; }
echo "restore test: OK ($dump restored, schema current, $organisations organisations)"
