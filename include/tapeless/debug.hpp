#pragma once
// The debugging layer: printing expressions and checking gradients.

#include <tapeless/debug/dot.hpp>
#include <tapeless/debug/gradient_check.hpp>
#include <tapeless/debug/to_string.hpp>
#include <tapeless/debug/compact_print.hpp>
