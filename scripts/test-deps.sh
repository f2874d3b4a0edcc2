#!/usr/bin/env bash
# Install the system packages the test suite runs for real (a Dovecot IMAP server for the email
# channel; Chromium and its driver for the console's browser tests), when they are missing. Under
# CI=true a package that cannot be installed is an error; elsewhere a warning (the tests that
# need it then skip, saying why).
set -u

ci() { [ "${CI:-}" = "true" ]; }
say() { printf 'test-deps: %s\n' "$*" >&2; }

missing=()
command -v dovecot >/dev/null 2>&1 || missing+=(dovecot-imapd)
[ -x /usr/bin/chromium ] || missing+=(chromium)  # the console's browser tests (Selenium, headless)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)

[ "${#missing[@]}" -eq 0 ] && exit 0

say "installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
if $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
  || { $sudo apt-get update -q >/dev/null 2>&1 \
       && $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; }; then
  exit 0
fi
say "could not install ${missing[*]} (apt-get install ${missing[*]})"
ci && exit 1
exit 0
