#!/usr/bin/env bash
# The release archive of one build: kedactl-VERSION-TARGET.tar.gz (.zip for Windows) holding
# kedactl-VERSION-TARGET/ with the binary, README.md, the licence files, completions/ and man/;
# then DIR/SHA256SUMS over every archive in DIR, checked. The release workflow runs it for each
# target, and .ci/run for the host build.
#   scripts/package.sh [--target TRIPLE] [--profile NAME | --binary PATH] [--version V] [--out DIR]
#       --target   default: the host (rustc -vV); names the archive and finds the binary
#       --profile  cargo profile whose binary to package (default release): .ci/run packages the
#                  debug binary its tests built, since a release build takes ~17 minutes there
#       --binary   the binary itself, instead of looking under target/
#       --version  must equal Cargo.toml's (a tag vX.Y.Z as well): the Action downloads the
#                  release named by its own Cargo.toml
#       --out      default target/dist
#   scripts/package.sh --sums DIR    (re)write DIR/SHA256SUMS over the archives in DIR, checked
# The archive is checked before the checksums are written: its entries, the binary's mode, and,
# where the target runs here, `kedactl --version` naming the version and the target.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "package.sh: $*" >&2; exit 1; }
sha256() { if command -v sha256sum > /dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }

# SHA256SUMS over the archives of DIR (names only, so `sha256sum -c` runs in DIR), then checked.
sums() {
  local dir=$1
  (
    cd "$dir"
    shopt -s nullglob
    local archives=(kedactl-*.tar.gz kedactl-*.zip)
    [ ${#archives[@]} -gt 0 ] || die "no kedactl-*.tar.gz or kedactl-*.zip in $dir"
    sha256 "${archives[@]}" > SHA256SUMS
    sha256 -c SHA256SUMS >&2
  )
}

if [ "${1:-}" = --sums ]; then
  [ $# -eq 2 ] || die "usage: $0 --sums DIR"
  sums "$2"
  exit 0
fi

target="" profile=release binary="" version="" out=target/dist
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "$1 needs a value"
  case $1 in
    --target) target=$2 ;;
    --profile) profile=$2 ;;
    --binary) binary=$2 ;;
    --version) version=${2#v} ;;
    --out) out=$2 ;;
    *) die "unknown argument $1 (see the comment at the top of $0)" ;;
  esac
  shift 2
done

own=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$own" ] || die "no version in Cargo.toml"
if [ -n "$version" ] && [ "$version" != "$own" ]; then
  die "version $version is not Cargo.toml's $own: tag the commit whose Cargo.toml says it"
fi
version=$own
host=$(rustc -vV | sed -n 's/^host: //p')
exe=""
case ${target:-$host} in *windows*) exe=.exe ;; esac
if [ -z "$binary" ]; then
  # cargo's layout: target/PROFILE without --target, target/TRIPLE/PROFILE with it ("dev" is debug).
  dir=$profile
  [ "$profile" = dev ] && dir=debug
  binary="${CARGO_TARGET_DIR:-target}/${target:+$target/}$dir/kedactl$exe"
fi
target=${target:-$host}
[ -f "$binary" ] || die "no binary at $binary: build it first (cargo build --profile $profile${target:+ --target $target})"

name="kedactl-$version-$target"
stage="$out/.stage"
rm -rf "$stage" && mkdir -p "$stage/$name"
cp "$binary" "$stage/$name/kedactl$exe"
chmod 755 "$stage/$name/kedactl$exe"
cp README.md "$stage/$name/"
licences=0
for f in LICENSE* LICENCE* COPYING* NOTICE*; do
  [ -f "$f" ] || continue
  cp "$f" "$stage/$name/"
  licences=$((licences + 1))
done
if [ "$licences" = 0 ]; then
  echo "package.sh: warning: no LICENSE file in the repository; Cargo.toml says license = $(sed -n 's/^license = //p' Cargo.toml)" >&2
fi
cp -R completions man "$stage/$name/"
find "$stage/$name" -type f ! -name "kedactl$exe" -exec chmod 644 {} +

# Reproducible: sorted, owned by root, every mtime the last commit's (or SOURCE_DATE_EPOCH).
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2> /dev/null || echo 0)}
mkdir -p "$out"
if [ -n "$exe" ]; then
  archive="$name.zip"
  rm -f "$out/$archive"
  find "$stage/$name" -exec touch -d "@$epoch" {} +
  if command -v zip > /dev/null; then
    (cd "$stage" && find "$name" -type f | LC_ALL=C sort | zip -X -q "../$archive" -@)
  else
    # Windows runners have 7-Zip, not zip.
    (cd "$stage" && 7z a -tzip -bso0 "../$archive" "$name")
  fi
  if command -v unzip > /dev/null; then
    entries=$(unzip -Z1 "$out/$archive")
  else
    # -slt: one "Path = " per entry, after the archive's own header (which has one too).
    entries=$(7z l -slt "$out/$archive" | sed -n '/^----------/,$ { /^Path = /{ s///; s#[\\]#/#g; p; }; }')
  fi
else
  archive="$name.tar.gz"
  tar=tar
  command -v gtar > /dev/null && tar=gtar # macOS runners: GNU tar as gtar
  if "$tar" --version 2> /dev/null | grep -q GNU; then
    "$tar" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$stage" -cf - "$name" | gzip -n > "$out/$archive"
  else
    "$tar" -C "$stage" -cf - "$name" | gzip -n > "$out/$archive"
  fi
  entries=$(tar -tzf "$out/$archive")
  tar -tvzf "$out/$archive" "$name/kedactl" | grep -q '^-rwxr-xr-x' || die "$archive: $name/kedactl is not executable"
fi

# The layout the Action, the README's one-liner and cargo binstall's bin-dir rely on.
for want in "kedactl$exe" README.md completions/kedactl.bash completions/_kedactl completions/kedactl.fish \
  completions/_kedactl.ps1 man/kedactl.1; do
  grep -qx "$name/$want" <<< "$entries" || die "$archive has no $name/$want"
done
outside=$(grep -v -e "^$name/" -e "^$name\$" <<< "$entries" || true)
[ -z "$outside" ] || die "$archive has entries outside $name/: $outside"

# Run the packaged binary where the target runs here (same OS and architecture).
os_of() { case $1 in *linux*) echo linux ;; *darwin*) echo darwin ;; *windows*) echo windows ;; *) echo "$1" ;; esac; }
if [ "${target%%-*}" = "${host%%-*}" ] && [ "$(os_of "$target")" = "$(os_of "$host")" ]; then
  said=$("$stage/$name/kedactl$exe" --version)
  case $said in
    "kedactl $version (commit "*", $target)") echo "$said" >&2 ;;
    *) die "the packaged binary says '$said', not kedactl $version (commit …, $target)" ;;
  esac
fi
rm -rf "$stage"
sums "$out"
echo "$out/$archive"
