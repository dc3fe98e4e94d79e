#pragma once
// Scalar symbolic work: symbols, exact and run-time constants, every scalar
// operation, tl::d, tl::grad, tl::hessian, tl::jacobian, tl::jvp,
// tl::share_numbers, tl::simplify, evaluation with named bindings,
// tl::to_string and finite-difference checks.
// It leaves out tensors, tl::compile, the SIMD loops, layers and training,
// which make up most of <tapeless/tapeless.hpp>'s compile time (about 3 of
// its 4 s of CPU with g++ 12, bench/results/compile_time.md), and the compact
// printer: include <tapeless/debug/compact_print.hpp> for to_compact_string
// and to_latex (its string tables cost about 0.8 s more).

#include <tapeless/debug/gradient_check.hpp>
#include <tapeless/debug/to_string.hpp>
#include <tapeless/diff/d.hpp>
#include <tapeless/diff/grad.hpp>
#include <tapeless/diff/hessian.hpp>
#include <tapeless/diff/jacobian.hpp>
#include <tapeless/diff/jvp.hpp>
#include <tapeless/diff/share_numbers.hpp>
#include <tapeless/diff/simplify.hpp>
#include <tapeless/expr/activations.hpp>
#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/atan2.hpp>
#include <tapeless/expr/clamp.hpp>
#include <tapeless/expr/compare.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/erf.hpp>
#include <tapeless/expr/evaluate.hpp>
#include <tapeless/expr/hypot.hpp>
#include <tapeless/expr/math_constant.hpp>
#include <tapeless/expr/minmax.hpp>
#include <tapeless/expr/pow.hpp>
#include <tapeless/expr/symbol.hpp>
#include <tapeless/expr/where.hpp>
