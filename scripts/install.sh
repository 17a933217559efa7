#!/usr/bin/env bash
# Install a kedactl release binary: download the archive of VERSION for TARGET and the release's
# SHA256SUMS from URL/vVERSION/, check the archive against it, then put kedactl in DIR. Nothing
# is installed unless the checksum matches. action.yml runs it (install: release).
#   scripts/install.sh VERSION TARGET URL DIR
#     URL: the releases' download address, e.g. https://github.com/OWNER/kedactl/releases/download
# A DIR that already holds kedactl VERSION (the Action's cache) is kept as it is.
set -euo pipefail

die() { echo "error: $*" >&2; exit 1; }
sha256() { if command -v sha256sum > /dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }

[ $# -eq 4 ] || die "usage: $0 VERSION TARGET URL DIR"
version=${1#v} target=$2 url=${3%/} dir=$4
exe="" ext=tar.gz
case $target in *windows*) exe=.exe ext=zip ;; esac
name="kedactl-$version-$target"
archive="$name.$ext"
bin="$dir/kedactl$exe"

if [ -x "$bin" ] && [ "$("$bin" -V 2> /dev/null)" = "kedactl $version" ]; then
  echo "kedactl $version for $target is in $dir already (cached)" >&2
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() {
  curl -fsSL --retry 3 --retry-delay 2 -o "$tmp/$1" "$url/v$version/$1" ||
    die "cannot download $url/v$version/$1: is kedactl v$version released with a build for $target? (the Action's install: source builds it instead)"
}
fetch "$archive"
fetch SHA256SUMS
# "HASH  NAME" (or "HASH *NAME", binary mode) lines, as sha256sum writes them.
want=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$tmp/SHA256SUMS")
[ -n "$want" ] || die "the SHA256SUMS of v$version has no line for $archive: not installed"
got=$(sha256 "$tmp/$archive" | awk '{ print $1 }')
[ "$want" = "$got" ] ||
  die "checksum mismatch for $archive: SHA256SUMS says $want, the download is $got: not installed"
echo "$archive: checksum $got OK" >&2

mkdir "$tmp/x"
if [ "$ext" = zip ]; then
  if command -v unzip > /dev/null; then unzip -q "$tmp/$archive" -d "$tmp/x"; else 7z x -bso0 -o"$tmp/x" "$tmp/$archive"; fi
else
  tar -xzf "$tmp/$archive" -C "$tmp/x"
fi
[ -f "$tmp/x/$name/kedactl$exe" ] || die "$archive has no $name/kedactl$exe: not installed"
mkdir -p "$dir"
cp "$tmp/x/$name/kedactl$exe" "$bin.partial"
chmod 755 "$bin.partial"
mv -f "$bin.partial" "$bin"
"$bin" --version
