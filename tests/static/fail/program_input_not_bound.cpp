// expect-error: no_binding_for_input<tapeless::fixed_string<2>{"X"}>
// expect-error-clang: no_binding_for_input<{{88, 0}}>
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto X = tl::input<"X", float, 4, 3>;
constexpr auto W = tl::param<"W", float, 2, 3>;
int main() { auto p = tl::compile(tl::sum(tl::matmul(X, tl::transpose(W)))); auto s = tl::parameters_of(tl::sum(W)); tl::tensor<float, 4, 3> x{}; (void)p.step(s); }
