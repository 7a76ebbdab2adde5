# Shared set-up for bin/demo and bin/test: pick a JDK >= 21, make sure PostgreSQL is up and Tandem's
# databases exist. Sourced, not run.

tandem_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

# A JDK >= 21: JAVA_HOME when it is one, else the newest under /usr/lib/jvm, else `java` on the PATH.
tandem_pick_jdk() {
  local v
  java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}'; }
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$(java_major "$JAVA_HOME"); if [ "${v:-0}" -ge 21 ]; then export JAVA_HOME; return 0; fi
  fi
  local best="" best_v=0 d
  for d in /usr/lib/jvm/* /opt/java/* "$HOME"/.sdkman/candidates/java/*; do
    [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ] || continue
    v=$(java_major "$d"); [ "${v:-0}" -gt "$best_v" ] && { best="$d"; best_v="$v"; }
  done
  if [ "$best_v" -ge 21 ]; then export JAVA_HOME="$best"; return 0; fi
  if command -v javac >/dev/null; then
    d=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    v=$(java_major "$d"); if [ "${v:-0}" -ge 21 ]; then export JAVA_HOME="$d"; return 0; fi
  fi
  echo "tandem: no JDK >= 21 found (set JAVA_HOME to one)" >&2
  return 1
}

TANDEM_DB_HOST="${TANDEM_DB_HOST:-127.0.0.1}"
TANDEM_DB_PORT="${TANDEM_DB_PORT:-5432}"
TANDEM_DB_USER="${TANDEM_DB_USER:-postgres}"

# PostgreSQL on 127.0.0.1:5432 (started through the Debian cluster tools when it is installed but down), and
# the databases `tandem` (services) and `tandem_test` (tests).
tandem_ensure_postgres() {
  if ! pg_isready -q -h "$TANDEM_DB_HOST" -p "$TANDEM_DB_PORT" 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      echo "tandem: starting PostgreSQL"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
    fi
    local i
    for i in $(seq 1 30); do pg_isready -q -h "$TANDEM_DB_HOST" -p "$TANDEM_DB_PORT" && break; sleep 1; done
  fi
  pg_isready -q -h "$TANDEM_DB_HOST" -p "$TANDEM_DB_PORT" || {
    echo "tandem: PostgreSQL is not reachable on $TANDEM_DB_HOST:$TANDEM_DB_PORT" >&2; return 1; }
  local db
  for db in tandem tandem_test; do
    if ! psql -h "$TANDEM_DB_HOST" -p "$TANDEM_DB_PORT" -U "$TANDEM_DB_USER" -d postgres -tAc \
        "select 1 from pg_database where datname='$db'" | grep -q 1; then
      createdb -h "$TANDEM_DB_HOST" -p "$TANDEM_DB_PORT" -U "$TANDEM_DB_USER" "$db"
    fi
  done
}
