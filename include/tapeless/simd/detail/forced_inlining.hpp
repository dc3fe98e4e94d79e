#pragma once
// Forced inlining, and the switch that leaves it to the compiler.
//
// The kernels are written to become one function each: their helpers are
// always_inline and the SIMD loops, the kernels' entry points and a small
// program's step are flattened, so that accumulators stay in registers across
// helpers and a batch-1 step calls nothing out of line (bench/checks/batch1_calls.py).
// That is also most of what a program costs to compile: g++ 12 at -Og took
// 78 s for tests/compile/small_batches.cpp (90 programs) with it, 37 s
// without.
//
// TAPELESS_NO_FORCED_INLINING, defined before the library is included (in
// every translation unit of a program, like any macro the library reads),
// drops always_inline and flatten: the same code and the same arithmetic,
// inlined where the compiler's own heuristics choose. Builds get much faster
// and kernels slower, so it is for development builds and tests (the test
// suite defines it unless -Dtests_forced_inlining=true), never for a
// measurement. noinline and noclone, which keep a function whole, stay.

#if defined(TAPELESS_NO_FORCED_INLINING)
#define TAPELESS_ALWAYS_INLINE
#define TAPELESS_ALWAYS_INLINE_LAMBDA
#define TAPELESS_FLATTEN
#define TAPELESS_FLATTEN_LAMBDA
#else
// On a function declaration.
#define TAPELESS_ALWAYS_INLINE [[gnu::always_inline]]
// After a lambda's parameter list, where g++ and clang take the GNU spelling.
#define TAPELESS_ALWAYS_INLINE_LAMBDA __attribute__((always_inline))
#define TAPELESS_FLATTEN [[gnu::flatten]]
#define TAPELESS_FLATTEN_LAMBDA __attribute__((flatten))
#endif
