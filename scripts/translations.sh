#!/bin/sh
# Translation catalogues of the web interface (Flask-Babel), one per blueprint plus
# the shared one (web/translations: layout, errors, web/*.py outside blueprints).
#   scripts/translations.sh update   # extract the strings, update ar/fr .po files
#   scripts/translations.sh compile  # .po -> .mo (committed; the app reads .mo)
# Translate in the .po files between the two steps; tests/web/test_translations.py
# fails on any string left untranslated or any .mo older than its .po.
set -eu
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
action="${1:-}"
catalogues="web/translations:web/templates:web/*.py"
for bp in auth coordinator volunteer admin api; do
  catalogues="$catalogues web/$bp/translations:web/$bp"
done
for entry in $catalogues; do
  dir="${entry%%:*}"
  sources=$(echo "${entry#*:}" | tr ":" " ")
  mkdir -p "$dir"
  case "$action" in
    update)
      # shellcheck disable=SC2086
      "$PYBABEL" extract -F web/babel.cfg -k _l -k lazy_gettext --no-location --omit-header \
        --sort-output -o "$dir/messages.pot" $sources
      for lang in ar fr; do
        if [ -f "$dir/$lang/LC_MESSAGES/messages.po" ]; then
          "$PYBABEL" update --quiet --no-fuzzy-matching -i "$dir/messages.pot" -d "$dir" -l "$lang"
        else
          "$PYBABEL" init -i "$dir/messages.pot" -d "$dir" -l "$lang"
        fi
      done ;;
    compile)
      for lang in ar fr; do
        if [ -f "$dir/$lang/LC_MESSAGES/messages.po" ]; then
          "$PYBABEL" compile --quiet -d "$dir" -l "$lang"
        fi
      done ;;
    *) echo "usage: $0 update|compile" >&2; exit 2 ;;
  esac
done
