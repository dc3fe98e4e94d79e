#pragma once
// tapeless: backpropagation, compiled. The whole public API.

#include <tapeless/compile.hpp>
#include <tapeless/core.hpp>
#include <tapeless/debug.hpp>
#include <tapeless/diff.hpp>
#include <tapeless/expr.hpp>
#include <tapeless/io.hpp>
#include <tapeless/nn.hpp>
#include <tapeless/optim.hpp>
#include <tapeless/simd.hpp>
#include <tapeless/train.hpp>
