#!/usr/bin/env bash
# One entry point for a fresh machine: creates .venv, installs zkchain with its dev and torch extras, installs the offline
# npm toolchain (solc-js, anvil, snarkjs) into tools/node_modules and, when missing, Debian's chromium (as root with
# apt-get; the report test renders a page in it), then runs what you asked for.
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
    # Re-install only when pyproject.toml or this script changed since the last install. The torch extra (the
    # CPU wheel pip finds on the machine) lets the from_torch tests and the README's 5-line example run.
    stamp=.venv/.zkchain-installed
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ scripts/dev.sh -nt "$stamp" ]; then
        echo "==> pip install -e .[dev,torch]" >&2
        .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev,torch]"
        touch "$stamp"
    fi
    if [ ! -d tools/node_modules/solc ] || [ tools/package-lock.json -nt tools/node_modules/.package-lock.json ]; then
        echo "==> npm ci (solc-js, anvil, snarkjs) into tools/node_modules" >&2
        (cd tools && npm ci --no-audit --no-fund --loglevel=error)
    fi
    # Headless Chromium renders `zkchain report`'s page in its test (tests/app/test_report.py skips without it).
    if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "==> apt-get install chromium (headless browser for the report test)" >&2
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                chromium; } >/dev/null 2>&1 || echo "note: could not install chromium; the report's browser test will skip" >&2
        else
            echo "note: chromium not found (install Debian's 'chromium' package); the report's browser test will skip" >&2
        fi
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
