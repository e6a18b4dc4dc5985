# Shared helpers of the scripts/ commands (sourced, not run).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MEC_VENV:-$REPO/.venv}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "need root (or sudo) to run: $*"; fi
}

APT_UPDATED=0
apt_install() {
    # Install the Debian/Ubuntu packages given, only those missing.
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get"
    if [ "$APT_UPDATED" -eq 0 ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
    say "installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

find_python() {
    # The first Python >= 3.11 on PATH.
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"; return 0
        fi
    done
    return 1
}

ensure_python() {
    if ! PYTHON="$(find_python)"; then
        apt_install python3.11 python3.11-venv || apt_install python3 python3-venv
        PYTHON="$(find_python)" || die "Python >= 3.11 is required"
    fi
    if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
        local version; version="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        apt_install "python${version}-venv" || apt_install python3-venv
    fi
    export PYTHON
}

ensure_venv() {
    # $1: pip extras spec, e.g. "." or ".[dev]"
    ensure_python
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    local stamp="$VENV/.installed-$(echo "$1" | tr -c 'a-z' '_')"
    if [ ! -f "$stamp" ] || [ "$REPO/pyproject.toml" -nt "$stamp" ]; then
        say "installing the platform into $VENV ($1)"
        "$VENV/bin/python" -m pip install -q --upgrade pip
        (cd "$REPO" && "$VENV/bin/python" -m pip install -q -e "$1")
        touch "$stamp"
    fi
}
