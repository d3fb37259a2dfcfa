#!/usr/bin/env bash
# Back up the database and prove the backup restores (docs/PRODUCTION.md, "Backups and
# restore"):
#   1. pg_dump -Fc of the source, from an exported snapshot, into $BACKUP_DIR;
#   2. row counts of every table, read in that same snapshot;
#   3. pg_restore of the dump into a scratch database (dropped and created anew);
#   4. `manage.py check_balances` against the restore (balance == sum(entries), payments
#      in the ledger once);
#   5. the row counts of the restore compared with the source's, table by table.
# Exit status 0 only when the restore is complete and the ledger agrees; the dump is kept
# either way. Safe on a live database: the dump and the source counts share one snapshot.
#
# Settings (environment):
#   SOURCE_URL       database to back up (default: $DATABASE_URL), postgres://user@host/db
#   SCRATCH_DB       scratch database name (default: <source db>_restore_check); never the source
#   SCRATCH_URL      its URL for the PostgreSQL tools (default: SOURCE_URL with SCRATCH_DB)
#   APP_SCRATCH_URL  its URL as the application sees it (default: SCRATCH_URL)
#   BACKUP_DIR       where dumps go (default: var/backups)
#   PG               prefix for psql/pg_dump/pg_restore, e.g. "docker compose exec -T postgres"
#   MANAGE           how to run manage.py (default: .venv/bin/python manage.py if present)
#   JOBS             parallel restore jobs when the tools run locally (default: 2)
#   KEEP_SCRATCH=1   keep the scratch database after the check
set -euo pipefail

SOURCE_URL=${SOURCE_URL:-${DATABASE_URL:?set SOURCE_URL or DATABASE_URL to postgres://...}}
base=${SOURCE_URL%%\?*}
query=${SOURCE_URL#"$base"}
source_db=${base##*/}
SCRATCH_DB=${SCRATCH_DB:-${source_db}_restore_check}
SCRATCH_URL=${SCRATCH_URL:-${base%/*}/${SCRATCH_DB}${query}}
APP_SCRATCH_URL=${APP_SCRATCH_URL:-$SCRATCH_URL}
MAINTENANCE_URL=${base%/*}/postgres${query}
BACKUP_DIR=${BACKUP_DIR:-var/backups}
PG=${PG:-}
if [[ -z ${MANAGE:-} ]]; then
    if [[ -x .venv/bin/python ]]; then MANAGE=".venv/bin/python manage.py"; else MANAGE="python manage.py"; fi
fi
JOBS=${JOBS:-2}
KEEP_SCRATCH=${KEEP_SCRATCH:-0}

if [[ $SCRATCH_DB == "$source_db" ]]; then
    echo "SCRATCH_DB must not be the source database ($source_db)." >&2
    exit 2
fi

mkdir -p "$BACKUP_DIR"
dump="$BACKUP_DIR/${source_db}-$(date +%Y%m%d-%H%M%S).dump"
workdir=$(mktemp -d)
cleanup() {
    rm -rf "$workdir"
    if [[ $KEEP_SCRATCH != 1 ]]; then
        $PG psql -XAtq "$MAINTENANCE_URL" -c "DROP DATABASE IF EXISTS \"$SCRATCH_DB\"" \
            >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

# One "table|rows" line per table of the public schema (partitions counted in their parent).
COUNT_SQL="SELECT format('SELECT %L, count(*) FROM public.%I', c.relname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  ORDER BY c.relname \\gexec"

step() { printf '%s  %s\n' "$(date +%T)" "$*"; }

# 1–2. Dump and count inside one snapshot, which this psql session holds open.
step "dump $source_db -> $dump"
started=$SECONDS
coproc SNAP { $PG psql -XAtq -v ON_ERROR_STOP=1 "$SOURCE_URL"; }
printf '%s\n' "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;" \
    "SELECT pg_export_snapshot();" >&"${SNAP[1]}"
IFS= read -r -t 60 -u "${SNAP[0]}" snapshot
$PG pg_dump --snapshot="$snapshot" -Fc "$SOURCE_URL" >"$dump"
printf '%s\n%s\n' "$COUNT_SQL" '\echo __end__' >&"${SNAP[1]}"
# Read in this shell, not in a pipeline: a subshell does not get the coprocess's pipes.
while IFS= read -r -u "${SNAP[0]}" line && [[ $line != __end__ ]]; do
    printf '%s\n' "$line" >>"$workdir/counted"
done
sort "$workdir/counted" >"$workdir/source"
printf '%s\n' "COMMIT;" '\q' >&"${SNAP[1]}"
wait "$SNAP_PID"
step "dump done in $((SECONDS - started)) s, $(du -h "$dump" | cut -f1)"

# 3. Restore into a fresh scratch database.
step "restore into $SCRATCH_DB"
started=$SECONDS
$PG psql -XAtq -v ON_ERROR_STOP=1 "$MAINTENANCE_URL" -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS \"$SCRATCH_DB\"" -c "CREATE DATABASE \"$SCRATCH_DB\""
if [[ -z $PG ]]; then
    pg_restore --no-owner --no-acl --exit-on-error --jobs="$JOBS" -d "$SCRATCH_URL" "$dump"
else  # the tools run elsewhere (a container): feed the dump through stdin, one job
    $PG pg_restore --no-owner --no-acl --exit-on-error -d "$SCRATCH_URL" <"$dump"
fi
$PG psql -XAtq -v ON_ERROR_STOP=1 "$SCRATCH_URL" -c "ANALYZE"
step "restore done in $((SECONDS - started)) s"

# 4. The ledger of the restore.
step "check_balances on the restore"
status=0
DATABASE_URL="$APP_SCRATCH_URL" $MANAGE check_balances || status=1

# 5. Row counts, table by table.
$PG psql -XAtq -v ON_ERROR_STOP=1 "$SCRATCH_URL" <<<"$COUNT_SQL" | sort >"$workdir/restore"
join -t'|' -a1 -a2 -e missing -o 0,1.2,2.2 "$workdir/source" "$workdir/restore" \
    >"$workdir/both"
tables=$(wc -l <"$workdir/both")
rows=$(awk -F'|' '{ n += $2 } END { print n + 0 }' "$workdir/both")
if awk -F'|' '$2 != $3 { print "  differs: " $1 ": source " $2 ", restore " $3; bad = 1 }
              END { exit bad }' "$workdir/both"; then
    step "row counts equal in all $tables tables ($rows rows)"
else
    step "row counts differ (above)"
    status=1
fi
for table in billing_account billing_ledgerentry billing_payment connections_clientcard; do
    grep "^$table|" "$workdir/both" | awk -F'|' '{ printf "  %-24s %12s rows\n", $1, $2 }' || true
done

if [[ $status == 0 ]]; then step "OK: $dump restores completely and its ledger agrees"; else
    step "FAILED: see above; the dump is kept at $dump"; fi
exit $status
