#!/usr/bin/env bash
# One entry point for a fresh machine: creates .venv, installs zkchain with its extras, installs the offline
# npm toolchain (solc-js, anvil, snarkjs) into tools/node_modules, then runs what you asked for.
#
#   bash scripts/dev.sh demo [ARGS...]   # the whole pipeline on the bundled digits model
#   bash scripts/dev.sh test [ARGS...]   # the test suite (pytest ARGS)
#   bash scripts/dev.sh setup            # set-up only
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

setup() {
    if [ ! -x .venv/bin/python ]; then
        echo "==> creating .venv" >&2
        python3 -m venv .venv
    fi
    # Re-install only when pyproject.toml changed since the last install.
    stamp=.venv/.zkchain-installed
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "==> pip install -e .[dev]" >&2
        .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"
        touch "$stamp"
    fi
    if [ ! -d tools/node_modules/solc ] || [ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]; then
        echo "==> npm ci (solc-js, anvil, snarkjs) into tools/node_modules" >&2
        (cd tools && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

cmd="${1:-test}"
shift || true
setup
case "$cmd" in
    setup) ;;
    demo) exec .venv/bin/zkchain demo "$@" ;;
    test) exec .venv/bin/python -m pytest "$@" ;;
    *) echo "usage: scripts/dev.sh demo|test|setup [ARGS...]" >&2; exit 2 ;;
esac
