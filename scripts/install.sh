#!/usr/bin/env bash
# Installs licprov and cryptlex-emulator into PREFIX (default /usr/local), built from this checkout
# exactly as a release is (scripts/stage.sh: release binaries with the Swift runtime linked in,
# stripped; they need only libc, libstdc++, libsqlite3 and libz at run time):
#
#   scripts/install.sh [PREFIX]
#
#   PREFIX/bin/licprov, PREFIX/bin/cryptlex-emulator
#   PREFIX/share/man/man1/licprov.1, cryptlex-emulator.1
#   PREFIX/share/bash-completion/completions/{licprov,cryptlex-emulator}
#   PREFIX/share/zsh/site-functions/{_licprov,_cryptlex-emulator}
#   PREFIX/share/fish/vendor_completions.d/{licprov,cryptlex-emulator}.fish
#   PREFIX/lib/systemd/system/licprov-sync@.service, .timer   (running PREFIX/bin/licprov)
#   PREFIX/share/doc/licprov/   README, CHANGELOG, LICENSE, docs, examples/nightly.toml
#
# After scripts/release.sh the binaries are built already: this only lays them out again.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/usr/local}
stage=.build/install-stage
scripts/stage.sh "$stage" "$prefix"
install -d "$prefix"
cp -R "$stage"/. "$prefix"/
rm -rf "$stage"
echo "installed $("$prefix/bin/licprov" --version) into $prefix (check: licprov --version; man licprov)" >&2
