#!/bin/sh
# Front-end assets, vendored from the npm registry at pinned versions (committed:
# nothing is downloaded at run time or in tests). Run to refresh after changing a
# version here; the SHA-256 of each file is checked by tests/web/test_assets.py.
#   leaflet  -> web/static/vendor/leaflet/   (maps: the route, stops, the day)
#   axe-core -> tests/web/assets/            (accessibility checks, tests only)
set -eu
LEAFLET=1.9.4
AXE=4.14.1
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "leaflet@$LEAFLET" "axe-core@$AXE" >/dev/null)
mkdir -p "$tmp/leaflet" "$tmp/axe" web/static/vendor/leaflet tests/web/assets
tar xzf "$tmp/leaflet-$LEAFLET.tgz" -C "$tmp/leaflet"
tar xzf "$tmp/axe-core-$AXE.tgz" -C "$tmp/axe"
cp "$tmp/leaflet/package/dist/leaflet.js" "$tmp/leaflet/package/dist/leaflet.css" web/static/vendor/leaflet/
cp -r "$tmp/leaflet/package/dist/images" web/static/vendor/leaflet/
cp "$tmp/leaflet/package/LICENSE" web/static/vendor/leaflet/LICENSE
cp "$tmp/axe/package/axe.min.js" tests/web/assets/axe.min.js
cp "$tmp/axe/package/LICENSE" tests/web/assets/axe-LICENSE
(cd web/static/vendor && find leaflet -type f | sort | xargs sha256sum) > web/static/vendor/SHA256SUMS
(cd tests/web/assets && sha256sum axe.min.js) > tests/web/assets/SHA256SUMS
echo "leaflet $LEAFLET, axe-core $AXE vendored"
