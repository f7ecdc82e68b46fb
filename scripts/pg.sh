#!/usr/bin/env bash
# The project's private PostgreSQL + PostGIS cluster, in var/pg of the checkout.
#   scripts/pg.sh ensure   install packages if missing, init + start the cluster, create the database;
#                          prints the DATABASE_URL on stdout (everything else goes to stderr)
#   scripts/pg.sh stop     stop the cluster
#   scripts/pg.sh crash    stop it as a power cut would (immediate: no checkpoint, recovery at the next start)
#   scripts/pg.sh status
# ANXUN_PG_HOME puts the cluster elsewhere (make soak and the fault test run one they may crash), ANXUN_PG_PORT
# on another port.
# PostgreSQL refuses to run as root: as root the server runs as the `postgres` system user.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PGHOME=$(realpath -m "${ANXUN_PG_HOME:-$ROOT/var/pg}")
PORT="${ANXUN_PG_PORT:-54329}"
DBNAME="${ANXUN_PG_DB:-anxun}"
DBUSER=anxun

say() { echo "[pg] $*" >&2; }

pg_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

has_postgis() {
  local bindir=$1 ver
  ver=$(basename "$(dirname "$bindir")")
  ls /usr/share/postgresql/"$ver"/extension/postgis.control >/dev/null 2>&1
}

ensure_packages() {
  local bindir
  if bindir=$(pg_bindir) && has_postgis "$bindir"; then echo "$bindir"; return 0; fi
  if [ "$(id -u)" -eq 0 ]; then
    say "installing Debian packages postgresql and postgis (apt-get) ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq postgresql postgis >&2
    bindir=$(pg_bindir) || { say "PostgreSQL still not found after install"; exit 1; }
    has_postgis "$bindir" || { say "PostGIS still not found after install"; exit 1; }
    echo "$bindir"
  else
    say "PostgreSQL and PostGIS are needed. Install them, then run this again:"
    say "    sudo apt-get install -y postgresql postgis"
    exit 1
  fi
}

# Run a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

datadir() {
  # As root the data folder must be reachable by `postgres`; a checkout under /root is not,
  # so then the cluster lives under /var/tmp and var/pg points at it.
  if [ "$(id -u)" -eq 0 ] && [ ! -e "$PGHOME" ]; then
    local parent
    parent=$(dirname "$PGHOME")
    mkdir -p "$parent"
    if ! runuser -u postgres -- test -x "$parent"; then
      local alt="/var/tmp/anxun-pg-$(echo -n "$PGHOME" | sha1sum | cut -c1-12)"
      mkdir -p "$alt"; ln -s "$alt" "$PGHOME"
      say "folder not reachable by user postgres; cluster lives in $alt (linked from $PGHOME)"
    fi
  fi
  mkdir -p "$PGHOME"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PGHOME/" && chmod 700 "$PGHOME/"
  echo "$PGHOME"
}

running() {
  local bindir=$1
  [ -f "$PGHOME/data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$PGHOME/data" status >/dev/null 2>&1
}

cmd_ensure() {
  local bindir home
  bindir=$(ensure_packages)
  home=$(datadir)
  if [ ! -f "$home/data/PG_VERSION" ]; then
    say "initialising a private cluster in var/pg ..."
    as_owner "$bindir/initdb" -D "$home/data" -U "$DBUSER" --auth=trust -E UTF8 --locale=C.UTF-8 >"$home/initdb.log" 2>&1 \
      || { cat "$home/initdb.log" >&2; exit 1; }
  fi
  if ! running "$bindir"; then
    say "starting PostgreSQL on 127.0.0.1:$PORT ..."
    as_owner "$bindir/pg_ctl" -D "$home/data" -l "$home/server.log" -w -t 60 \
      -o "-p $PORT -k $home -c listen_addresses=127.0.0.1 -c max_connections=200 -c max_prepared_transactions=20 -c fsync=on" start >&2 \
      || { tail -20 "$home/server.log" >&2; exit 1; }
  fi
  local psql="$bindir/psql -h 127.0.0.1 -p $PORT -U $DBUSER -d postgres -v ON_ERROR_STOP=1 -qAt"
  if [ "$($psql -c "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")" != "1" ]; then
    $psql -c "CREATE DATABASE $DBNAME" >&2
  fi
  echo "postgresql://$DBUSER@127.0.0.1:$PORT/$DBNAME"
}

cmd_stop() {
  local bindir
  bindir=$(pg_bindir) || exit 0
  if running "$bindir"; then
    say "stopping PostgreSQL"
    as_owner "$bindir/pg_ctl" -D "$PGHOME/data" -m fast -w stop >&2
  fi
}

cmd_crash() {
  local bindir
  bindir=$(pg_bindir) || exit 0
  if running "$bindir"; then
    say "stopping PostgreSQL at once (-m immediate)"
    as_owner "$bindir/pg_ctl" -D "$PGHOME/data" -m immediate -w stop >&2
  fi
}

cmd_status() {
  local bindir
  bindir=$(pg_bindir) || { echo "PostgreSQL not installed"; exit 1; }
  if running "$bindir"; then echo "running on 127.0.0.1:$PORT"; else echo "stopped"; exit 3; fi
}

case "${1:-}" in
  ensure) cmd_ensure ;;
  stop) cmd_stop ;;
  crash) cmd_crash ;;
  status) cmd_status ;;
  *) echo "usage: $0 ensure|stop|crash|status" >&2; exit 2 ;;
esac
