#!/usr/bin/env bash
# Installs the S3 clients the compatibility tests drive (Debian packages): AWS CLI v2,
# boto3, s3cmd, rclone and restic; and chromium, the browser test/ops/browser.test.ts drives through
# playwright-core (which never downloads a browser); and redis-server and rabbitmq-server, the
# brokers the event tests start on free loopback ports (test/helpers/brokers.ts; the packages'
# own services are not used). Needs root (or sudo) and apt; safe to run again.
set -euo pipefail
pkgs=(awscli python3-boto3 s3cmd rclone restic chromium redis-server rabbitmq-server)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
# Debian starts the packaged services where an init system runs; the tests start their own.
$sudo service redis-server stop >/dev/null 2>&1 || true
$sudo service rabbitmq-server stop >/dev/null 2>&1 || true
