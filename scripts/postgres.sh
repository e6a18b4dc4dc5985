# Find or start a PostgreSQL server the tests may use with trust authentication (sourced).
# Sets MEC_TEST_POSTGRES_URL. Uses MEC_TEST_POSTGRES_URL if given and reachable, else a
# server on 127.0.0.1:5432 that lets `postgres` in without a password, else starts a private
# throwaway cluster under /tmp (initdb --auth=trust) on its own port.

pg_reachable() {
    "$VENV/bin/python" - "$1" <<'PY' >/dev/null 2>&1
import sys
import psycopg
url = sys.argv[1].replace("postgresql+psycopg://", "postgresql://")
psycopg.connect(url, connect_timeout=3).close()
PY
}

ensure_postgres() {
    local url="${MEC_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
    if pg_reachable "$url"; then MEC_TEST_POSTGRES_URL="$url"; return 0; fi
    local bin; bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    [ -n "$bin" ] || die "PostgreSQL is not installed (scripts/setup --dev installs it)"
    local dir="${MEC_TEST_PGDATA:-/tmp/mec-platform-pg}" port="${MEC_TEST_PGPORT:-54329}"
    local run=()
    if [ "$(id -u)" -eq 0 ]; then run=(runuser -u postgres --); fi
    if [ ! -f "$dir/PG_VERSION" ]; then
        say "creating a throwaway PostgreSQL cluster in $dir"
        rm -rf "$dir"; mkdir -p "$dir"
        [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
        "${run[@]}" "$bin/initdb" -D "$dir" -U postgres --auth=trust >/dev/null
    fi
    url="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    if ! pg_reachable "$url"; then
        say "starting PostgreSQL on 127.0.0.1:$port"
        "${run[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    fi
    pg_reachable "$url" || die "could not start PostgreSQL (see $dir/server.log)"
    MEC_TEST_POSTGRES_URL="$url"
}
