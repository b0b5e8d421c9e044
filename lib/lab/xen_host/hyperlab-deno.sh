#!/bin/sh
# Runs the host's Deno (9p share /mnt/deno) in dom0 with a tmpfs DENO_DIR whose npm cache is the host's (read-only
# share /mnt/deno-npm), so project code on /mnt/project runs without downloads.
export DENO_DIR=/tmp/deno HOME=/root DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
mkdir -p "$DENO_DIR"
[ -e "$DENO_DIR/npm" ] || ln -s /mnt/deno-npm "$DENO_DIR/npm"
exec /mnt/deno/@DENO@ "$@"
