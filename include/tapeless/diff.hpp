#pragma once
// The differentiation layer: derivative rules, reverse accumulation, the
// simplifier, tl::d and tl::grad.

#include <tapeless/diff/d.hpp>
#include <tapeless/diff/grad.hpp>
#include <tapeless/diff/grad_parameters.hpp>
#include <tapeless/diff/hessian.hpp>
#include <tapeless/diff/jacobian.hpp>
#include <tapeless/diff/jvp.hpp>
#include <tapeless/diff/reverse.hpp>
#include <tapeless/diff/share_numbers.hpp>
#include <tapeless/diff/simplify.hpp>
#include <tapeless/expr.hpp>
