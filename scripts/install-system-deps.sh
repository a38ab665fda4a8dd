#!/usr/bin/env bash
# Debian packages the tests need: chromium (browser tests through Playwright, never a
# downloaded browser), gdal-bin (GDAL's own OGC API client, ogrinfo, reads our /ogc) and
# PostgreSQL/PostGIS (the PostGIS store).
# Installs only what is missing; needs root or sudo.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
# poppler-utils: pdftotext/pdftoppm read the PDF reports in the tests; Pango and DejaVu: WeasyPrint
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
ldconfig -p | grep -q libpangoft2-1.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
fc-list 2>/dev/null | grep -q DejaVuSans || need+=(fonts-dejavu-core)
# PostgreSQL 15 + PostGIS 3: the PostGIS store's contract tests start a throwaway server
# (scripts/test-postgres.sh).
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
[ -f /usr/share/postgresql/15/extension/postgis.control ] || need+=(postgresql-15-postgis-3)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing Debian packages: ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
