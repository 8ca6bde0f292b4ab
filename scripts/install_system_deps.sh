#!/usr/bin/env bash
# Install the Debian packages the test suite uses: headless chromium (offline HTML checks),
# poppler-utils (PDF pages as PNG), the PostgreSQL server and the PostGIS extension for it.
#
# Debian's package `postgis` holds only the command-line tools; the extension the server loads
# (postgis.control) is in postgresql-<major>-postgis-3, <major> being the server's major version
# (postgresql-15-postgis-3 on Debian 12).
#
# Runs apt-get only when something is missing and we are root; otherwise says what to install.
# When the packages cannot be installed: with CI=true exit 1 (the CI run must fail, not skip the
# tests that need them); otherwise print the message and exit 0 (those tests then skip).
set -u

LOG=/tmp/gridgis-apt.log
in_ci() { [ "$(printf %s "${CI:-}" | tr '[:upper:]' '[:lower:]')" = true ]; }

give_up() {  # message
  if in_ci; then
    echo "ERROR: $1" >&2
    echo "CI=true: the tests that need these system packages would fail; stopping here." >&2
    exit 1
  fi
  echo "$1 (the tests that need them are skipped)"
  exit 0
}

# Major version of the newest installed PostgreSQL server (empty when none is installed).
installed_major() {
  local d majors=()
  for d in /usr/lib/postgresql/*/bin/initdb; do
    [ -x "$d" ] && majors+=("$(basename "$(dirname "$(dirname "$d")")")")
  done
  [ ${#majors[@]} -gt 0 ] && printf '%s\n' "${majors[@]}" | sort -V | tail -n 1
}

# Major version of the server that `apt-get install postgresql` would install (postgresql
# depends on postgresql-<major>), empty when apt does not know the package.
candidate_major() {
  apt-cache depends postgresql 2>/dev/null \
    | sed -n 's/^ *Depends: postgresql-\([0-9][0-9.]*\)$/\1/p' | sort -V | tail -n 1
}

have_postgis() {  # major: the extension control file of that server version
  [ -n "$1" ] && [ -f "/usr/share/postgresql/$1/extension/postgis.control" ]
}

missing() {  # what is still missing, as Debian package names
  local pkgs=() major
  command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
  command -v pdftoppm >/dev/null 2>&1 || pkgs+=(poppler-utils)
  major=$(installed_major)
  if [ -z "$major" ]; then
    pkgs+=(postgresql)
    major=$(candidate_major)
    pkgs+=("postgresql-${major:-<major>}-postgis-3")
  elif ! have_postgis "$major"; then
    pkgs+=("postgresql-$major-postgis-3")
  fi
  echo "${pkgs[*]}"
}

apt_install() {  # packages...
  echo "installing system packages: $*"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
      >>"$LOG" 2>&1; then
    tail -n 20 "$LOG" >&2
    give_up "apt-get install $* failed (full log: $LOG)"
  fi
}

todo=$(missing)
[ -z "$todo" ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  give_up "missing system packages: $todo (install them as root with apt-get, or run \`make sysdeps\` as root)"
fi

: >"$LOG"
DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$LOG" 2>&1 \
  || echo "warning: apt-get update failed (see $LOG); trying the cached package lists" >&2

# again with fresh package lists: they tell which server version `postgresql` pulls in, so its
# extension package goes in the same apt-get run
todo=$(missing)
case "$todo" in
  *"<major>"*) give_up "apt knows no package postgresql (check the apt sources): cannot install $todo" ;;
esac
read -r -a pkgs <<<"$todo"
apt_install "${pkgs[@]}"

# The server actually installed may be another version than apt-cache predicted (or several are
# installed): make sure the one the tests use (the newest) has its extension.
major=$(installed_major)
[ -z "$major" ] && give_up "PostgreSQL server not installed after apt-get (see $LOG)"
have_postgis "$major" || apt_install "postgresql-$major-postgis-3"

todo=$(missing)
[ -n "$todo" ] && give_up "still missing after apt-get: $todo (see $LOG)"
echo "system packages ready: chromium, poppler-utils, postgresql-$major, postgresql-$major-postgis-3"
exit 0
