#!/usr/bin/env bash
# Debian's nginx for tests/cs_project/test_nginx_config.py, which runs docs/deploy/nginx.conf:
# installed when missing and we may install packages. (Debian starts the nginx service on install
# unless policy-rc.d says no; the test runs its own nginx on free ports and needs no service.)
set -uo pipefail
[ -x /usr/sbin/nginx ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing nginx-light for the nginx config test"
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null 2>&1 \
    || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null))
fi
[ -x /usr/sbin/nginx ] && exit 0
echo "ERROR: nginx is missing; install Debian's nginx-light package (apt-get install nginx-light)" >&2
exit 1
