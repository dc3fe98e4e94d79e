// expect-error: binding_does_not_fit_input<tapeless::symbol<tapeless::fixed_string<2>{"X"}, float, tapeless::shape<4, 3>, tapeless::symbol_kind::input>, tapeless::tensor<float, 4, 2> >
// expect-error-clang: binding_does_not_fit_input<tapeless::symbol<{{88, 0}}, float, tapeless::shape<4, 3>, tapeless::symbol_kind::input>, tapeless::tensor<float, 4, 2>>
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto X = tl::input<"X", float, 4, 3>;
constexpr auto W = tl::param<"W", float, 2, 3>;
int main() { auto p = tl::compile(tl::sum(tl::matmul(X, tl::transpose(W)))); auto s = tl::parameters_of(tl::sum(W)); tl::tensor<float, 4, 2> x{}; (void)p.step(s, X = x); }
