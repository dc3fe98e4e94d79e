// expect-error: this parameter store has no parameter of that name
#include <tapeless/optim.hpp>
namespace tl = tapeless;
using store = tl::parameter_store<tl::inline_storage, tl::parameter_entry<"fc1.weight", float, tl::shape<3, 2>>>;
int main() {
  store params;
  auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = 0.1f});
  opt.freeze<"fc">();  // a prefix of a name is not a layer's name: "fc1" is
}
