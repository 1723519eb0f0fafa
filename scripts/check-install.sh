#!/usr/bin/env bash
# Checks what scripts/install.sh put into PREFIX: the binaries run and report the version, the man
# pages and the three completion scripts exist and know the subcommands, the units run PREFIX's licprov. Exit 0 when all is there.
set -euo pipefail
prefix=${1:?usage: scripts/check-install.sh PREFIX}
fail() { echo "check-install: $*" >&2; exit 1; }
version=$("$prefix/bin/licprov" --version) || fail "licprov --version failed"
[ -n "$version" ] || fail "licprov --version printed nothing"
"$prefix/bin/cryptlex-emulator" --help >/dev/null || fail "cryptlex-emulator --help failed"
if command -v ldd >/dev/null; then
  ! ldd "$prefix/bin/licprov" | grep -q 'libswiftCore' || fail "licprov links the Swift runtime dynamically"
fi
for page in licprov cryptlex-emulator; do
  grep -Eq '^\.(Dt|TH) ' "$prefix/share/man/man1/$page.1" || fail "$page.1 is not a man page"
done
grep -q 'undo' "$prefix/share/man/man1/licprov.1" || fail "licprov.1 does not document undo"
grep -q "ExecStart=$prefix/bin/licprov job" "$prefix/lib/systemd/system/licprov-sync@.service" || fail "the unit does not run $prefix/bin/licprov"
[ -f "$prefix/share/doc/licprov/examples/nightly.toml" ] || fail "the example job is missing"
for sub in validate run status export audit undo apply job; do
  grep -q "$sub" "$prefix/share/bash-completion/completions/licprov" || fail "bash completion lacks $sub"
  grep -q "$sub" "$prefix/share/zsh/site-functions/_licprov" || fail "zsh completion lacks $sub"
  grep -q "$sub" "$prefix/share/fish/vendor_completions.d/licprov.fish" || fail "fish completion lacks $sub"
done
echo "check-install: licprov $version, cryptlex-emulator, man pages and bash/zsh/fish completions in $prefix"
