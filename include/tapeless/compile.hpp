#pragma once
// The compile layer: parameter stores, and programs compiled from expressions.

#include <tapeless/compile/parameters.hpp>
#include <tapeless/compile/plan.hpp>
#include <tapeless/compile/program.hpp>
