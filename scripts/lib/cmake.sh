# shellcheck shell=bash
# scripts/lib/cmake.sh - how the scripts configure CMake, sourced by scripts/build, scripts/package,
# scripts/abi-check, scripts/test-reliability, scripts/test-shipping and scripts/build-cmocka-mingw.
#
#   cmake_preset PRESET [SRC] [cmake args...]
#                        configure with a preset of SRC/CMakePresets.json (SRC: the repository by
#                        default); extra arguments (-B DIR, -DX=Y) override the preset's values
#   cmake_generator_args sets the array cmake_gen to "-G Ninja" when ninja is installed (configures of
#                        projects that have no preset of ours: cmocka's sources); empty otherwise
#
# Every build of wipc itself goes through CMakePresets.json (linux, win64, rel-asan, rel-tsan, rel-vg,
# fuzz, ship-linux, ship-win64, abi; tests/consumer has its own): the flags of a build are written
# in one place, and `cmake --preset NAME` by hand gives the build a script makes.

cmake_preset() {   # cmake_preset PRESET [SRC] [cmake args...]
  local preset=$1 src=${_cmake_root:?}
  shift
  if [[ $# -gt 0 && -d "$1" ]]; then src=$1; shift; fi
  (cd "$src" && cmake --preset "$preset" "$@")
}

# shellcheck disable=SC2034  # cmake_gen is read by the caller
cmake_generator_args() {
  cmake_gen=()
  if command -v ninja >/dev/null 2>&1; then cmake_gen=(-G Ninja); fi
}

_cmake_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
