#pragma once
// The compile layer: programs compiled from expressions.

#include <tapeless/compile/program.hpp>
#include <tapeless/compile/streaming.hpp>
#include <tapeless/core/parameter_store.hpp>
#include <tapeless/expr/parameters_of.hpp>
