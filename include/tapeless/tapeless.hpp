#pragma once
// tapeless: backpropagation, compiled. The whole public API.

#include <tapeless/compile.hpp>
#include <tapeless/core.hpp>
#include <tapeless/debug.hpp>
#include <tapeless/diff.hpp>
#include <tapeless/expr.hpp>
#include <tapeless/simd.hpp>
