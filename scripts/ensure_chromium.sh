#!/usr/bin/env bash
# Debian's chromium for the browser tests, and a CJK font so that screenshots show Chinese text:
# installed when missing and we may install packages.
set -uo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing ${need[*]} for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v chromium >/dev/null && exit 0
echo "ERROR: chromium is missing; install Debian's chromium package (apt-get install chromium)" >&2
exit 1
