// expect-error: fit does not guess what it holds: return tl::train::classifier_logits(z)
#include <tapeless/train.hpp>
namespace tt = tapeless::train;
int main() {
  tt::dataset<2> data;
  const float row[2] = {0, 1};
  data.push_back(std::span<const float, 2>(row), 0);
  auto train = tt::training_batches<1>(data, 1);
  auto val = tt::evaluation_batches<1>(data);
  tt::fit(train, &val, [](const auto&) { return 1.0f; },
          [](const auto&) { return tapeless::tensor<float, 1, 3>{}; });  // logits? predictions?
}
