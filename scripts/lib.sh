# Shared by scripts/start and scripts/test: find Python 3.12, make the virtualenv, install the
# Debian packages and Python packages, and check that PostgreSQL and Redis answer.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export DATABASE_URL="${DATABASE_URL:-postgres://root@127.0.0.1:5432/workbench}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

find_python() {
  local want; want="$(cat "$ROOT/.python-version")"
  local candidates=()
  command -v pyenv >/dev/null 2>&1 && candidates+=("$(pyenv root)/versions/$want/bin/python3")
  candidates+=("python${want%.*}" python3.12 python3.13 python3)
  for candidate in "${candidates[@]}"; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

ensure_venv() {
  if [ ! -x "$PY" ] || ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
    local base
    base="$(find_python)" || die "Python 3.12 or newer is needed (Django 6 requires it). Install it (e.g. 'pyenv install 3.12.1') and run again."
    say "creating the virtualenv with $base"
    rm -rf "$VENV"
    "$base" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed" source
  local stale=0
  [ -f "$stamp" ] || stale=1
  # The packages, and the compiled JSON scanner (built in place by the editable install).
  for source in pyproject.toml setup.py apps/designs/engine/_jsonpos.c apps/designs/engine/_jsonpos_scan.h; do
    if [ "$ROOT/$source" -nt "$stamp" ]; then stale=1; fi
  done
  if ! compgen -G "$ROOT/apps/designs/engine/_jsonpos*.so" >/dev/null; then stale=1; fi
  if [ "$stale" -eq 1 ]; then
    say "installing Python packages"
    "$PY" -m pip install -q --disable-pip-version-check --upgrade pip
    "$PY" -m pip install -q --disable-pip-version-check -e ".[dev]"
    touch "$stamp"
  fi
  # The project's own bytecode, as pip writes it for the packages: where PYTHONDONTWRITEBYTECODE is
  # set (as on some CI images), every command would otherwise compile ~100 modules from source
  # each time it starts (0.2 s of a `manage.py analyze`). Only changed files are compiled again.
  "$PY" -m compileall -q -j 0 "$ROOT/apps" "$ROOT/workbench" "$ROOT/manage.py" >/dev/null
}

# Debian packages: Chromium drives the browser tests; hypopg serves the query-plan sandbox; gcc
# compiles the JSON scanner (apps/designs/engine/_jsonpos.c) during the editable install.
APT_PACKAGES=(chromium postgresql-15-hypopg gcc)

ensure_debian_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || { echo "warning: not Debian; install ${missing[*]} yourself" >&2; return 0; }
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing Debian packages: ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

check_services() {
  "$PY" "$ROOT/scripts/check_services.py"
}
