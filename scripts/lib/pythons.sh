# shellcheck shell=bash
# scripts/lib/pythons.sh - wipc_pythons: the CPython interpreters >= 3.10 of this machine, one line each:
# "<path> <major.minor>", pyenv's first (sorted by version), then Debian's /usr/bin/python3.
# $WIPC_PYTHONS (space-separated paths) replaces the search. Sourced by scripts/build-python-wheels and
# scripts/test-python-wheels.
wipc_pythons() {
  local candidates=() p v pyroot found=()
  if [[ -n "${WIPC_PYTHONS:-}" ]]; then
    read -r -a candidates <<<"$WIPC_PYTHONS"
  else
    pyroot=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
    mapfile -t found < <(compgen -G "$pyroot/versions/*/bin/python3" | sort -V)
    candidates+=("${found[@]}")
    [[ -x /usr/bin/python3 ]] && candidates+=(/usr/bin/python3)
  fi
  for p in "${candidates[@]}"; do
    v=$("$p" -c 'import sys; print("%d.%d" % sys.version_info[:2]) if sys.implementation.name == "cpython" and sys.version_info >= (3, 10) else None' 2>/dev/null) || continue
    [[ "$v" == 3.* ]] && echo "$p $v"
  done
}
