#!/usr/bin/env bash
# Install the Debian packages the test suite uses: headless chromium (offline HTML checks),
# PostgreSQL + PostGIS (database tests) and poppler-utils (PDF pages as PNG).
# Runs apt-get only when something is missing and we are root; otherwise says what to install.
set -u
pkgs=()
command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || pkgs+=(poppler-utils)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || pkgs+=(postgresql)
ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || pkgs+=(postgis)
[ ${#pkgs[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  # postgis pulls the server package of the default PostgreSQL version
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/tmp/gridgis-apt.log 2>&1 \
    || { echo "apt-get failed (see /tmp/gridgis-apt.log); browser/PostGIS tests will be skipped"; exit 0; }
else
  echo "missing system packages: ${pkgs[*]} (install them as root; the tests that need them are skipped)"
fi
exit 0
