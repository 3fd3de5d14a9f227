#!/usr/bin/env bash
# Build the documentation with MkDocs in strict mode: any warning (a broken link, a page missing from
# the nav, a docstring mkdocstrings cannot read, a stale docs/tasks.md) fails the build.
#   pip install -c constraints.txt -e ".[docs]" && scripts/check_docs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python scripts/gen_tasks_doc.py --check
site_dir="${SITE_DIR:-$(mktemp -d)}"
mkdocs build --strict --site-dir "$site_dir" "$@"
echo "docs built in $site_dir"
