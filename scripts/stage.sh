#!/usr/bin/env bash
# Builds licprov and cryptlex-emulator once (release, the Swift runtime linked in, stripped) and
# lays out everything that ships as an installation tree under STAGE — the one layout the
# tarball, the Debian package and scripts/install.sh are made from:
#
#   scripts/stage.sh STAGE PREFIX
#
#   STAGE/bin/licprov, STAGE/bin/cryptlex-emulator     stripped; debug info in .build/static/debug/
#   STAGE/share/man/man1/licprov.1, cryptlex-emulator.1  (ArgumentParser's generate-manual, run on
#                                                         the binaries just built: no second build)
#   STAGE/share/bash-completion/completions/{licprov,cryptlex-emulator}
#   STAGE/share/zsh/site-functions/{_licprov,_cryptlex-emulator}
#   STAGE/share/fish/vendor_completions.d/{licprov,cryptlex-emulator}.fish
#   STAGE/lib/systemd/system/licprov-sync@.service, .timer   (ExecStart= PREFIX/bin/licprov)
#   STAGE/share/doc/licprov/README.md, CHANGELOG.md, LICENSE, docs/, examples/nightly.toml
#
# PREFIX is where the tree will live (/usr for the .deb, /usr/local for the tarball and install.sh):
# only the units name it. The build folder is .build/static, kept between runs: a second stage of
# the same commit builds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
stage=${1:?usage: scripts/stage.sh STAGE PREFIX}
prefix=${2:?usage: scripts/stage.sh STAGE PREFIX}
scripts/need-system-libraries.sh
scratch=.build/static
flags=(-c release --static-swift-stdlib --scratch-path "$scratch")
echo "building release binaries (about 12 minutes on 2 cores the first time) ..." >&2
swift build "${flags[@]}" --product licprov >&2
swift build "${flags[@]}" --product cryptlex-emulator >&2
built=$(swift build "${flags[@]}" --show-bin-path)

# ArgumentParser's manual generator, built from the checkout the build resolved (the same version
# that wrote the binaries' --experimental-dump-help), debug, in a folder of its own: about a
# minute once, instead of `swift package generate-manual`'s second release build of licprov.
tool=.build/manual-tool
parser=$scratch/checkouts/swift-argument-parser
parser_version=$(git -C "$parser" describe --tags 2>/dev/null || git -C "$parser" rev-parse HEAD)
if [ ! -x "$tool/generate-manual" ] || [ "$(cat "$tool/version" 2>/dev/null)" != "$parser_version" ]; then
  echo "building ArgumentParser's generate-manual ($parser_version) ..." >&2
  rm -rf "$tool" && mkdir -p "$tool"
  cp -R "$parser" "$tool/src" && rm -rf "$tool/src/.git"
  swift build --package-path "$tool/src" --scratch-path "$tool/build" --product generate-manual >&2
  cp "$(swift build --package-path "$tool/src" --scratch-path "$tool/build" --show-bin-path)/generate-manual" "$tool/generate-manual"
  echo "$parser_version" >"$tool/version"
fi

rm -rf "$stage"
install -d "$stage/bin" "$stage/share/man/man1" "$stage/share/bash-completion/completions" "$stage/share/zsh/site-functions" \
  "$stage/share/fish/vendor_completions.d" "$stage/lib/systemd/system" "$stage/share/doc/licprov/docs" "$stage/share/doc/licprov/examples"
mkdir -p "$scratch/debug"
# The manual's date is the commit's, so that two stages of one commit give the same pages.
date=$(git log -1 --format=%cs 2>/dev/null || date -u +%F)
for name in licprov cryptlex-emulator; do
  # Debug info kept beside the build (for a backtrace of a shipped binary), then stripped.
  objcopy --only-keep-debug "$built/$name" "$scratch/debug/$name.debug"
  install -m 0755 "$built/$name" "$stage/bin/$name"
  strip --strip-all "$stage/bin/$name"
  objcopy --add-gnu-debuglink="$scratch/debug/$name.debug" "$stage/bin/$name"
  "$tool/generate-manual" "$stage/bin/$name" --date "$date" --output-directory "$stage/share/man/man1" >&2
  "$stage/bin/$name" --generate-completion-script bash >"$stage/share/bash-completion/completions/$name"
  "$stage/bin/$name" --generate-completion-script zsh >"$stage/share/zsh/site-functions/_$name"
  "$stage/bin/$name" --generate-completion-script fish >"$stage/share/fish/vendor_completions.d/$name.fish"
done
for unit in packaging/systemd/*; do
  sed "s#/usr/bin/licprov#$prefix/bin/licprov#g" "$unit" >"$stage/lib/systemd/system/$(basename "$unit")"
  chmod 0644 "$stage/lib/systemd/system/$(basename "$unit")"
done
install -m 0644 README.md CHANGELOG.md LICENSE "$stage/share/doc/licprov/"
install -m 0644 docs/*.md "$stage/share/doc/licprov/docs/"
install -m 0644 packaging/examples/* "$stage/share/doc/licprov/examples/"
chmod -R u=rwX,go=rX "$stage"
echo "staged $("$stage/bin/licprov" --version) in $stage" >&2
