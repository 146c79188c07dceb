#!/bin/sh
# Back up the qidash database with pg_dump (custom format: compressed, restorable table by table)
# and keep the last $KEEP_DAYS days. The connection comes from the usual PG* variables (PGHOST,
# PGPORT, PGUSER, PGDATABASE, PGPASSFILE). Copy the dumps off this host as well: they hold personal
# data (names of staff and patient partners), so keep them encrypted and access-controlled.
#
#   PGDATABASE=qidash BACKUP_DIR=/var/backups/qidash deploy/backup.sh
set -eu

dir=${BACKUP_DIR:-/var/backups/qidash}
keep_days=${KEEP_DAYS:-14}
db=${PGDATABASE:-qidash}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
umask 077
mkdir -p "$dir"

# Write to a temporary name first, so a failed or partial dump never looks like a backup.
pg_dump --format=custom --no-owner --no-privileges --dbname="$db" --file="$dir/qidash-$stamp.dump.part"
pg_restore --list "$dir/qidash-$stamp.dump.part" > /dev/null   # readable as an archive
mv "$dir/qidash-$stamp.dump.part" "$dir/qidash-$stamp.dump"

find "$dir" -name 'qidash-*.dump' -mtime +"$keep_days" -delete
find "$dir" -name 'qidash-*.dump.part' -mmin +600 -delete
echo "backup: $dir/qidash-$stamp.dump ($(du -h "$dir/qidash-$stamp.dump" | cut -f1))"
