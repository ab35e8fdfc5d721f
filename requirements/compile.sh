#!/usr/bin/env sh
# Regenerate requirements/action.txt: the hash-pinned runtime dependencies of pyproject.toml that
# action.yml installs with --require-hashes. Run from the repository root after changing
# `[project] dependencies`, and commit the result.
set -eu
exec uv pip compile pyproject.toml \
  --generate-hashes \
  --universal \
  --python-version 3.10 \
  --custom-compile-command "requirements/compile.sh" \
  --output-file requirements/action.txt "$@"
