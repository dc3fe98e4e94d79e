#pragma once
// The core layer: names as template arguments, static shapes, exact rationals,
// tensors, a reproducible random stream, threads and the denormal mode.

#include <tapeless/core/denormals.hpp>
#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/fixed_string.hpp>
#include <tapeless/core/random.hpp>
#include <tapeless/core/rational.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/core/tensor.hpp>
#include <tapeless/core/thread_pool.hpp>
#include <tapeless/core/type_list.hpp>
