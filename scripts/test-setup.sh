#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, when missing:
#   - the AWS CLI v2 (Debian package awscli) at /usr/bin/aws
# Idempotent and quiet when everything is present.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
		echo "test-setup: not root and no sudo; install missing packages yourself" >&2
	fi
fi

need=()
if ! /usr/bin/aws --version 2>/dev/null | grep -q '^aws-cli/2'; then need+=(awscli); fi
if ! python3 -c 'import boto3' 2>/dev/null; then need+=(python3-boto3); fi

if [ ${#need[@]} -gt 0 ]; then
	echo "test-setup: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
/usr/bin/aws --version
