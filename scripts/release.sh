#!/usr/bin/env bash
# Makes a release of the current commit in dist/ (docs/releasing.md):
#
#   scripts/release.sh [--allow-dirty]
#
#   dist/licprov-VERSION-linux-ARCH.tar.gz   bin/, share/ (man pages, completions, docs, example),
#                                            lib/systemd/system/ (units for /usr/local), README.md,
#                                            CHANGELOG.md, LICENSE; extract and copy into /usr/local
#   dist/licprov_VERSION-1_DEBARCH.deb       the same for /usr, with Depends computed by
#                                            dpkg-shlibdeps from what the binaries link
#   dist/SHA256SUMS                          for both (`cd dist && sha256sum -c SHA256SUMS`)
#   dist/debug/                              the binaries' debug info (kept, not shipped)
#
# VERSION is the repository's VERSION file, the commit HEAD's (scripts/build-info.sh). A tree with
# changes to tracked files is refused (the binaries would say -dirty) unless --allow-dirty.
# The archives are deterministic: the same binaries give the same bytes (file times are the
# commit's, owners root, entries sorted, gzip without a name; checked: two runs, one SHA256SUMS).
set -euo pipefail
cd "$(dirname "$0")/.."
allow_dirty=false
for argument in "$@"; do
  case "$argument" in
    --allow-dirty) allow_dirty=true ;;
    *) echo "usage: scripts/release.sh [--allow-dirty]" >&2; exit 64 ;;
  esac
done
read -r version commit < <(scripts/build-info.sh)
case "$commit" in
  *-dirty) $allow_dirty || { echo "release: tracked files differ from $commit (git status); commit them, or pass --allow-dirty" >&2; exit 1; } ;;
esac
command -v dpkg-shlibdeps >/dev/null || { echo "installing dpkg-dev (dpkg-shlibdeps) ..." >&2; (apt-get update -qq && apt-get install -y -qq dpkg-dev) >/dev/null; }
arch=$(uname -m)
debarch=$(dpkg --print-architecture)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
dist=dist
work=.build/release-work
rm -rf "$dist" "$work"
mkdir -p "$dist/debug" "$work"

# The tarball: a tree for /usr/local, with README, CHANGELOG and LICENSE on top.
name=licprov-$version-linux-$arch
scripts/stage.sh "$work/$name" /usr/local
cp .build/static/debug/*.debug "$dist/debug/"
install -m 0644 README.md CHANGELOG.md LICENSE "$work/$name/"
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner -C "$work" -cf - "$name" | gzip -n -9 >"$dist/$name.tar.gz"

# The Debian package: the same binaries and pages, where Debian's tools look.
deb=$work/deb
root=$deb/root
usr=$root/usr
install -d "$usr/bin" "$usr/share/man/man1" "$usr/share/bash-completion/completions" "$usr/share/zsh/vendor-completions" \
  "$usr/share/fish/vendor_completions.d" "$root/lib/systemd/system" "$usr/share/doc/licprov" "$root/DEBIAN"
staged=$work/$name
install -m 0755 "$staged"/bin/* "$usr/bin/"
for page in "$staged"/share/man/man1/*.1; do gzip -n -9 -c "$page" >"$usr/share/man/man1/$(basename "$page").gz"; done
install -m 0644 "$staged"/share/bash-completion/completions/* "$usr/share/bash-completion/completions/"
install -m 0644 "$staged"/share/zsh/site-functions/* "$usr/share/zsh/vendor-completions/"
install -m 0644 "$staged"/share/fish/vendor_completions.d/* "$usr/share/fish/vendor_completions.d/"
for unit in packaging/systemd/*; do install -m 0644 "$unit" "$root/lib/systemd/system/"; done
cp -R "$staged/share/doc/licprov/docs" "$staged/share/doc/licprov/examples" "$usr/share/doc/licprov/"
install -m 0644 README.md "$usr/share/doc/licprov/"
gzip -n -9 -c CHANGELOG.md >"$usr/share/doc/licprov/changelog.gz"
install -m 0644 packaging/debian/copyright "$usr/share/doc/licprov/copyright"
install -m 0755 packaging/debian/postinst "$root/DEBIAN/"
# Depends: what the binaries link, as dpkg-shlibdeps reads it from the installed libraries' symbols
# files (it wants a debian/control to stand in; the package is described below).
mkdir -p "$deb/shlibs/debian"
printf 'Source: licprov\n\nPackage: licprov\nArchitecture: any\n' >"$deb/shlibs/debian/control"
depends=$(cd "$deb/shlibs" && dpkg-shlibdeps -O "-e$PWD/../root/usr/bin/licprov" "-e$PWD/../root/usr/bin/cryptlex-emulator" 2>/dev/null \
  | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "release: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
cat >"$root/DEBIAN/control" <<CONTROL
Package: licprov
Version: $version-1
Architecture: $debarch
Maintainer: licprov maintainers <maintainers@users.noreply.github.com>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Section: utils
Priority: optional
Description: bulk provisioning of software licenses through the Cryptlex Web API v3
 licprov reads order files (CSV, JSON, NDJSON, Excel, other systems' exports), checks every row
 against the API's published constraints, and creates or changes the licenses they ask for under
 Cryptlex's rate limit, with a SQLite journal that makes every run resumable and exactly-once.
 .
 The package ships cryptlex-emulator (a local Cryptlex to rehearse against), man pages, shell
 completions and systemd units for a nightly job (licprov-sync@.service and .timer).
CONTROL
(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
find "$root" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --build "$root" "$dist/licprov_${version}-1_${debarch}.deb" >&2

(cd "$dist" && sha256sum "$name.tar.gz" "licprov_${version}-1_${debarch}.deb" >SHA256SUMS)
echo "release $version ($commit):" >&2
(cd "$dist" && ls -l "$name.tar.gz" "licprov_${version}-1_${debarch}.deb" SHA256SUMS >&2)
