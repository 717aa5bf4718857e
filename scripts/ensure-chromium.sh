#!/usr/bin/env bash
# The status page's browser test (test/integration/console/page.test.ts) drives Debian's Chromium
# through playwright-core, which downloads no browser of its own. Installs the `chromium` package
# with apt-get when it is missing; does nothing when it is there. Never fails the caller: when it
# cannot install (no apt-get, not root), it says so and the page test fails naming the fix.
set -uo pipefail

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi

echo "Chromium not found at $CHROMIUM; installing Debian's chromium (the status page test needs it)"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: no apt-get here; install Chromium yourself (or set CHROMIUM_PATH), else the status page test fails" >&2
  exit 0
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "ensure-chromium: not root and no passwordless sudo; run: sudo apt-get install chromium" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ${as_root[@]+"${as_root[@]}"} apt-get update -qq && ${as_root[@]+"${as_root[@]}"} apt-get install -y -qq chromium >/dev/null; then
  "$CHROMIUM" --version 2>/dev/null | head -n 1
else
  echo "ensure-chromium: could not install chromium; the status page test will fail" >&2
fi
exit 0
