#!/bin/sh
# Install the release binaries pinned in a lock file (see tools.lock) into a directory, for this
# machine's architecture. A download whose SHA-256 is not the pinned one stops the build.
#   install-tools.sh LOCK DEST
set -eu
lock="$1"
dest="$2"
arch="$(dpkg --print-architecture)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
count=0
while read -r name tool_arch sum url member; do
  case "$name" in "" | \#*) continue ;; esac
  [ "$tool_arch" = "$arch" ] || continue
  curl -fsSL --retry 3 -o "$tmp/$name.download" "$url"
  if ! echo "$sum  $tmp/$name.download" | sha256sum -c --status -; then
    echo "error: $name: the SHA-256 of $url is not the pinned $sum; nothing installed." >&2
    echo "-> Update .devcontainer/tools.lock from the release's published checksums." >&2
    exit 1
  fi
  if [ "$member" = "-" ]; then
    install -m 0755 "$tmp/$name.download" "$dest/$name"
  else
    tar -xzf "$tmp/$name.download" -C "$tmp" "$member"
    install -m 0755 "$tmp/$member" "$dest/$name"
  fi
  echo "installed $dest/$name from $url"
  count=$((count + 1))
done <"$lock"
if [ "$count" = 0 ]; then
  echo "error: $lock pins no tool for $arch." >&2
  exit 1
fi
