#!/bin/sh
# clang++ 14 reads the library: each example but the transformer (32 s of
# clang's front end alone) is parsed and its templates instantiated
# (-fsyntax-only, a few seconds each), with the widest instruction set the
# machine has, so that a construct only g++ accepts is caught by every CI run.
# The full clang suite (with sanitizers) is opt-in for time (.ci/run); a
# lambda attribute g++ reads and clang does not went unnoticed there for a
# day. Ends with "tests: N passed, M failed", one case per file.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cxx=${CLANG_CXX:-clang++}
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "clang front end: $cxx not found"
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
march=""
if "$cxx" -march=native -x c++ -fsyntax-only /dev/null >/dev/null 2>&1; then march="-march=native"; fi
passed=0
failed=0
for f in "$root"/examples/*.cpp; do
  case "$f" in */tiny_transformer.cpp) continue ;; esac
  if "$cxx" -std=c++20 -fsyntax-only $march -I"$root/include" "$f"; then
    echo "clang front end: $(basename "$f") ok"
    passed=$((passed + 1))
  else
    echo "clang front end: $(basename "$f") FAILED"
    failed=$((failed + 1))
  fi
done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
