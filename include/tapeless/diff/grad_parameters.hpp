#pragma once
// tl::grad(loss): the gradient with respect to every param the loss reads, in
// the order its graph meets them (the order of tl::parameters_of). g[W] is the
// gradient expression of W; tl::compile(g[W]) evaluates it on tensors.

#include <tapeless/diff/grad.hpp>
#include <tapeless/expr/parameter_symbols.hpp>

namespace tapeless {

template <expression F>
constexpr auto grad(const F& f) {
  using params = detail::parameter_symbols_t<F>;
  static_assert(params::size > 0,
                "tapeless::grad(f): f reads no param; name the variables instead: tl::grad(f, x, y)");
  return [&]<class... Ps>(detail::type_list<Ps...>) { return grad(f, Ps{}...); }(params{});
}

}  // namespace tapeless
