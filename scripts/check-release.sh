#!/usr/bin/env bash
# Checks what scripts/release.sh wrote in dist/, as a user would meet it:
#
#   scripts/check-release.sh [--install]
#
# - SHA256SUMS verifies both archives;
# - the tarball holds the stripped binaries, which need no Swift library (ldd), print
#   "VERSION (COMMIT)" of this checkout, and serve; the man pages, completions, units, example
#   config, README, CHANGELOG and LICENSE;
# - the .deb's control names its Depends (libc6, libsqlite3-0, zlib1g, …, from dpkg-shlibdeps)
#   and its files are where Debian looks.
# With --install (root, CI): the .deb installed with dpkg -i — licprov on PATH, `man -w licprov`,
# the units accepted by `systemd-analyze verify` as an instance — then removed with dpkg -r,
# leaving none of its files behind. Exit 0 when all holds; the first failure is said and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
install=false
[ "${1:-}" = "--install" ] && install=true
fail() { echo "check-release: $*" >&2; exit 1; }
read -r version commit < <(scripts/build-info.sh)
arch=$(uname -m)
debarch=$(dpkg --print-architecture)
name=licprov-$version-linux-$arch
tarball=dist/$name.tar.gz
deb=dist/licprov_${version}-1_${debarch}.deb
[ -f "$tarball" ] && [ -f "$deb" ] && [ -f dist/SHA256SUMS ] || fail "dist/ lacks $tarball, $deb or SHA256SUMS: run scripts/release.sh"
(cd dist && sha256sum --check --quiet SHA256SUMS) || fail "SHA256SUMS does not verify"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xzf "$tarball"
top=$work/$name
for file in bin/licprov bin/cryptlex-emulator share/man/man1/licprov.1 share/man/man1/cryptlex-emulator.1 \
  share/bash-completion/completions/licprov share/zsh/site-functions/_licprov share/fish/vendor_completions.d/licprov.fish \
  lib/systemd/system/licprov-sync@.service lib/systemd/system/licprov-sync@.timer share/doc/licprov/examples/nightly.toml \
  README.md CHANGELOG.md LICENSE; do
  [ -e "$top/$file" ] || fail "the tarball lacks $file"
done
check_binary() {
  local binary=$1
  ! ldd "$binary" | grep -Eq 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime' || fail "$binary links a Swift library: $(ldd "$binary" | grep -E 'swift|Foundation|dispatch')"
  ! readelf -S "$binary" | grep -q '\.symtab' || fail "$binary is not stripped"
  local said
  said=$("$binary" --version)
  [ "$said" = "$version ($commit)" ] || fail "$binary --version says '$said', not '$version ($commit)'"
}
check_binary "$top/bin/licprov"
check_binary "$top/bin/cryptlex-emulator"
grep -q 'ExecStart=/usr/local/bin/licprov job' "$top/lib/systemd/system/licprov-sync@.service" || fail "the tarball's unit does not run /usr/local/bin/licprov"
grep -q '^\.Dt LICPROV' "$top/share/man/man1/licprov.1" || fail "licprov.1 is not a man page"
grep -q 'job' "$top/share/bash-completion/completions/licprov" || fail "the bash completion lacks job"

# The emulator serves, and the shipped licprov sends through it (the binaries work, not only start).
port_file=$work/emulator.out
"$top/bin/cryptlex-emulator" --port 0 --token check >"$port_file" 2>/dev/null &
emulator=$!
for _ in $(seq 100); do grep -q listening "$port_file" && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$port_file" | head -n 1)
[ -n "$url" ] || { kill "$emulator"; fail "the shipped cryptlex-emulator did not start"; }
printf 'order_id,productId,email\nR-1,prod-check,check@example.com\n' >"$work/orders.csv"
CRYPTLEX_ACCESS_TOKEN=check "$top/bin/licprov" run "$work/orders.csv" --id-column order_id --api-url "$url" --progress none --json >"$work/run.json" \
  || { kill "$emulator"; fail "the shipped licprov could not run a file against the shipped emulator: $(cat "$work/run.json")"; }
kill "$emulator"
grep -q '"created":1' "$work/run.json" || fail "the shipped licprov did not create the license: $(cat "$work/run.json")"

dpkg-deb --field "$deb" Package Version Architecture | grep -q "^Version: $version-1" || fail "$deb is not version $version-1"
depends=$(dpkg-deb --field "$deb" Depends)
for library in libc6 libsqlite3-0 zlib1g; do
  echo "$depends" | grep -q "$library" || fail "$deb's Depends ($depends) lacks $library"
done
contents=$(dpkg-deb --contents "$deb")
for file in ./usr/bin/licprov ./usr/bin/cryptlex-emulator ./usr/share/man/man1/licprov.1.gz ./usr/share/bash-completion/completions/licprov \
  ./usr/share/zsh/vendor-completions/_licprov ./usr/share/fish/vendor_completions.d/licprov.fish ./lib/systemd/system/licprov-sync@.service \
  ./lib/systemd/system/licprov-sync@.timer ./usr/share/doc/licprov/copyright ./usr/share/doc/licprov/changelog.gz \
  ./usr/share/doc/licprov/examples/nightly.toml; do
  echo "$contents" | grep -q " $file\$" || fail "$deb lacks $file"
done
echo "check-release: $tarball, $deb and SHA256SUMS verify; licprov $version ($commit), stripped, no Swift library; Depends: $depends" >&2

$install || exit 0
[ "$(id -u)" = 0 ] || fail "--install needs root (dpkg -i)"
! dpkg -s licprov >/dev/null 2>&1 || fail "licprov is installed already: dpkg -r licprov first"
mapfile -t shipped < <(dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's#^\./#/#' | grep -v '/$')
dpkg -i "$deb" >&2 || { apt-get install -f -y -qq >&2 && dpkg -s licprov >/dev/null; } || fail "dpkg -i $deb failed"
[ "$(command -v licprov)" = /usr/bin/licprov ] || fail "licprov is not on PATH after dpkg -i"
[ "$(licprov --version)" = "$version ($commit)" ] || fail "the installed licprov says $(licprov --version)"
if command -v man >/dev/null; then
  [ "$(man -w licprov)" = /usr/share/man/man1/licprov.1.gz ] || fail "man -w licprov finds $(man -w licprov 2>&1)"
  MANWIDTH=100 man licprov 2>/dev/null | grep -q 'licprov job' || fail "man licprov does not show the job command"
fi
if command -v systemd-analyze >/dev/null; then
  # A template is verified as an instance: a copy named for one, beside the timer's instance.
  units=$work/units
  mkdir -p "$units"
  cp /lib/systemd/system/licprov-sync@.service "$units/licprov-sync@nightly.service"
  cp /lib/systemd/system/licprov-sync@.timer "$units/licprov-sync@nightly.timer"
  verified=$(cd "$units" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$units/licprov-sync@nightly.service" "$units/licprov-sync@nightly.timer" 2>&1) \
    || fail "systemd-analyze verify refused the units: $verified"
  [ -z "$verified" ] || fail "systemd-analyze verify warned: $verified"
fi
dpkg -r licprov >&2 || fail "dpkg -r licprov failed"
# No maintainer script runs after removal (no postrm), so dpkg forgets the package entirely.
! dpkg -s licprov >/dev/null 2>&1 || fail "dpkg still knows licprov after dpkg -r: $(dpkg -s licprov | grep '^Status')"
for file in "${shipped[@]}"; do
  [ ! -e "$file" ] || fail "$file is still there after dpkg -r"
done
[ ! -e /usr/share/doc/licprov ] || fail "/usr/share/doc/licprov is still there after dpkg -r"
echo "check-release: $deb installed (licprov on PATH, man page, units verified) and removed leaving none of its ${#shipped[@]} files" >&2
