# Sourced by run.sh, test.sh and bench.sh: which database server to use. With DATABASE_URL set, that one.
# Otherwise the private cluster (scripts/pg.sh), with database $1 (default: $ANXUN_PG_DB, else anxun); when it had
# to start the cluster, STOP_DB=1 and the cluster is stopped again on exit.
use_database() {
  STOP_DB=""
  if [ -z "${DATABASE_URL:-}" ]; then
    if ! scripts/pg.sh status >/dev/null 2>&1; then STOP_DB=1; trap 'scripts/pg.sh stop' EXIT; fi
    DATABASE_URL=$(ANXUN_PG_DB="${1:-${ANXUN_PG_DB:-anxun}}" scripts/pg.sh ensure)
  fi
}
