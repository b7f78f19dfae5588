#!/usr/bin/env bash
# The README's test command (`npm test`): set up what the tests need, then lint, typecheck and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-env.sh
npx eslint . --max-warnings 0
npx prettier --check .
npx tsc -p tsconfig.json --noEmit
npx tsc -p hub/console/tsconfig.json --noEmit
# The browser tests (vitest project e2e) drive the built console.
npx vite build hub/console
npx vitest run "$@"
