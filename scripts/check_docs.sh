#!/usr/bin/env bash
# Build the documentation with MkDocs in strict mode: any warning (a broken link, a nav entry without
# its page, a docstring mkdocstrings cannot read) fails the build; a stale docs/tasks.md fails too.
#   pip install -c constraints.txt -e ".[docs]" && scripts/check_docs.sh
# SITE_DIR=site scripts/check_docs.sh keeps the built site; by default it goes to a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
python scripts/gen_tasks_doc.py --check
if [ -n "${SITE_DIR:-}" ]; then
    site_dir="$SITE_DIR"
else
    site_dir="$(mktemp -d)"
    trap 'rm -rf "$site_dir"' EXIT
fi
NO_MKDOCS_2_WARNING=1 mkdocs build --strict --site-dir "$site_dir" "$@"
echo "docs build passed (mkdocs --strict)"
