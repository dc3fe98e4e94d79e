#pragma once
// The expression layer: symbols, constants, operations and their builders,
// the graph view, and scalar evaluation with named bindings.

#include <tapeless/core.hpp>
#include <tapeless/expr/activations.hpp>
#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/atan2.hpp>
#include <tapeless/expr/batch_matmul.hpp>
#include <tapeless/expr/batch_statistics.hpp>
#include <tapeless/expr/clamp.hpp>
#include <tapeless/expr/compare.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/conv2d.hpp>
#include <tapeless/expr/dropout.hpp>
#include <tapeless/expr/element_type.hpp>
#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/erf.hpp>
#include <tapeless/expr/evaluate.hpp>
#include <tapeless/expr/gather.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/hypot.hpp>
#include <tapeless/expr/label.hpp>
#include <tapeless/expr/loss.hpp>
#include <tapeless/expr/math_constant.hpp>
#include <tapeless/expr/matmul.hpp>
#include <tapeless/expr/minmax.hpp>
#include <tapeless/expr/node.hpp>
#include <tapeless/expr/operand.hpp>
#include <tapeless/expr/pool2d.hpp>
#include <tapeless/expr/pow.hpp>
#include <tapeless/expr/reduce.hpp>
#include <tapeless/expr/reshape.hpp>
#include <tapeless/expr/scan.hpp>
#include <tapeless/expr/slice.hpp>
#include <tapeless/expr/symbol.hpp>
#include <tapeless/expr/where.hpp>
#include <tapeless/expr/take_rows.hpp>
