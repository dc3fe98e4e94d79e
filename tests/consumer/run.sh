#!/usr/bin/env bash
# Installs tapeless into a temporary prefix and builds tests/consumer against
# it the ways another project would: Meson dependency('tapeless') through
# pkg-config, CMake find_package(tapeless), plain $CXX $(pkg-config --cflags
# tapeless), and Meson with tapeless as a subproject. Each build must compile
# and its trainer must run and learn. Ends with "consumer: N passed, M failed";
# exits non-zero if any failed.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
consumer="$root/tests/consumer"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cxx="${CXX:-g++}"
passed=0
failed=0

check() {  # check <name> <command...>: runs the command, counts the outcome
  local name="$1"
  shift
  echo "== consumer: $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    echo "consumer: $name FAILED"
    failed=$((failed + 1))
  fi
}

prefix="$work/prefix"
install_copy() {
  meson setup "$work/library" "$root" --prefix="$prefix" -Dtests=false -Dexamples=false -Dbench=false >/dev/null &&
    meson install -C "$work/library" --quiet
}
if ! install_copy; then
  echo "consumer: installing tapeless into $prefix failed"
  echo "consumer: 0 passed, 1 failed"
  exit 1
fi
export PKG_CONFIG_PATH="$prefix/share/pkgconfig"
export CMAKE_PREFIX_PATH="$prefix"

meson_pkgconfig() {
  meson setup "$work/meson" "$consumer" >/dev/null &&
    meson compile -C "$work/meson" >/dev/null && "$work/meson/trainer"
}
cmake_package() {
  cmake -S "$consumer" -B "$work/cmake" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build "$work/cmake" >/dev/null && "$work/cmake/trainer"
}
plain_pkgconfig() {
  # shellcheck disable=SC2046  # the flags are meant to split into words
  "$cxx" $(pkg-config --cflags tapeless) -O2 "$consumer/trainer.cpp" -o "$work/plain-trainer" &&
    "$work/plain-trainer"
}
meson_subproject() {
  mkdir -p "$work/sub/subprojects" &&
    cp "$consumer/meson.build" "$consumer/trainer.cpp" "$work/sub/" &&
    ln -s "$root" "$work/sub/subprojects/tapeless" &&
    env -u PKG_CONFIG_PATH meson setup "$work/sub-build" "$work/sub" --force-fallback-for=tapeless >/dev/null &&
    meson compile -C "$work/sub-build" >/dev/null && "$work/sub-build/trainer"
}

# Two builds at a time (each is mostly one compilation of the trainer, on one
# core), each into its own log; the logs are shown and counted in order.
names=("Meson dependency('tapeless') via pkg-config" "CMake find_package(tapeless)"
       "$cxx \$(pkg-config --cflags tapeless)" "Meson subproject")
builds=(meson_pkgconfig cmake_package plain_pkgconfig meson_subproject)
for i in "${!builds[@]}"; do
  ("${builds[$i]}" >"$work/build-$i.log" 2>&1; echo $? >"$work/build-$i.status") &
  if [ $((i % 2)) -eq 1 ]; then wait; fi
done
wait
for i in "${!builds[@]}"; do
  check "${names[$i]}" sh -c 'cat "$1"; exit "$(cat "$2")"' sh "$work/build-$i.log" "$work/build-$i.status"
done
echo "consumer: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
