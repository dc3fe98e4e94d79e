// conv2d, pooling and flatten in compiled programs: losses sum(f(P) * B) and
// the gradients of every parameter against PyTorch
// (tests/reference/cnn_layers.py) and central differences; odd channel
// counts, non-square images, stride 2 with padding, dilation, groups,
// depthwise, pooling windows that do not divide the input.
#define BOOST_TEST_MODULE compile_conv_pool
#include "support.hpp"

#include "../reference/cnn_layers.inc"

namespace tl = tapeless;

namespace {
constexpr double tolerance = 1e-11;
constexpr double fd_step = 1e-6, fd_tolerance = 1e-6;

}  // namespace

#define TAPELESS_CHECK_LOSS_AND_GRADIENTS(program, params, r, ...)              \
  test::check_close("loss", program.step(params, __VA_ARGS__), r::loss, tolerance); \
  test::check_close("dP", params.grad<"P">(), r::grad_P, tolerance)

BOOST_AUTO_TEST_CASE(conv2d_with_stride_padding_and_bias_matches_pytorch) {
  namespace r = reference::conv2d_stride_padding;
  constexpr auto P = tl::param<"P", double, 3, 5, 9, 7>;
  constexpr auto W = tl::param<"W", double, 4, 5, 3, 3>;
  constexpr auto C = tl::param<"C", double, 4>;
  constexpr auto B = tl::input<"B", double, 3, 4, 5, 4>;
  constexpr auto loss =
      tl::sum((tl::conv2d<tl::conv_options{.stride = 2, .padding = 1}>(P, W) + tl::reshape<4, 1, 1>(C)) * B);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"P">(), r::P);
  test::fill(params.get<"W">(), r::W);
  test::fill(params.get<"C">(), r::C);
  tl::tensor<double, 3, 4, 5, 4> b;
  test::fill(b, r::B);
  TAPELESS_CHECK_LOSS_AND_GRADIENTS(program, params, r, B = b);
  test::check_close("dW", params.grad<"W">(), r::grad_W, tolerance);
  test::check_close("dC", params.grad<"C">(), r::grad_C, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance, B = b);
}

BOOST_AUTO_TEST_CASE(conv2d_with_groups_dilation_and_a_non_square_kernel_matches_pytorch) {
  namespace r = reference::conv2d_groups_dilation;
  constexpr auto P = tl::param<"P", double, 2, 6, 8, 5>;
  constexpr auto W = tl::param<"W", double, 9, 2, 3, 2>;
  constexpr auto B = tl::input<"B", double, 2, 9, 8, 7>;
  constexpr auto loss = tl::sum(tl::conv2d<tl::conv_options{.padding = 2, .dilation = 2, .groups = 3}>(P, W) * B);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"P">(), r::P);
  test::fill(params.get<"W">(), r::W);
  tl::tensor<double, 2, 9, 8, 7> b;
  test::fill(b, r::B);
  TAPELESS_CHECK_LOSS_AND_GRADIENTS(program, params, r, B = b);
  test::check_close("dW", params.grad<"W">(), r::grad_W, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance, B = b);
}

BOOST_AUTO_TEST_CASE(depthwise_conv2d_with_stride_2_matches_pytorch) {
  namespace r = reference::conv2d_depthwise;
  constexpr auto P = tl::param<"P", double, 2, 5, 7, 6>;
  constexpr auto W = tl::param<"W", double, 5, 1, 3, 3>;
  constexpr auto B = tl::input<"B", double, 2, 5, 4, 3>;
  constexpr auto loss = tl::sum(tl::conv2d<tl::conv_options{.stride = 2, .padding = 1, .groups = 5}>(P, W) * B);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"P">(), r::P);
  test::fill(params.get<"W">(), r::W);
  tl::tensor<double, 2, 5, 4, 3> b;
  test::fill(b, r::B);
  TAPELESS_CHECK_LOSS_AND_GRADIENTS(program, params, r, B = b);
  test::check_close("dW", params.grad<"W">(), r::grad_W, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance, B = b);
}

// One pooling case: loss = sum(pool(P) * B).
template <class R, std::size_t... In, std::size_t... Out, class Pool>
void check_pooling(tl::shape<In...>, tl::shape<Out...>, Pool pool) {
  constexpr auto P = tl::param<"P", double, In...>;
  constexpr auto B = tl::input<"B", double, Out...>;
  constexpr auto loss = tl::sum(pool(P) * B);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.template get<"P">(), R::P);
  tl::tensor<double, Out...> b;
  test::fill(b, R::B);
  test::check_close("loss", program.step(params, B = b), R::loss, tolerance);
  test::check_close("dP", params.template grad<"P">(), R::grad_P, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance, B = b);
}

#define TAPELESS_REFERENCE(ns)                          \
  struct ns##_values {                                  \
    static constexpr const auto& P = reference::ns::P;  \
    static constexpr const auto& B = reference::ns::B;  \
    static constexpr double loss = reference::ns::loss; \
    static constexpr const auto& grad_P = reference::ns::grad_P; \
  }

TAPELESS_REFERENCE(max_pool_3_2_1);
TAPELESS_REFERENCE(max_pool_2);
TAPELESS_REFERENCE(avg_pool_3_2_1);
TAPELESS_REFERENCE(avg_pool_2);
TAPELESS_REFERENCE(global_avg_pool);

BOOST_AUTO_TEST_CASE(max_pool2d_with_padding_and_a_window_that_does_not_divide_the_input_matches_pytorch) {
  check_pooling<max_pool_3_2_1_values>(tl::shape<2, 3, 9, 7>{}, tl::shape<2, 3, 5, 4>{},
                                       [](auto p) { return tl::max_pool2d<3, 2, 1>(p); });
  check_pooling<max_pool_2_values>(tl::shape<2, 3, 7, 5>{}, tl::shape<2, 3, 3, 2>{},
                                   [](auto p) { return tl::max_pool2d<2>(p); });
}

BOOST_AUTO_TEST_CASE(avg_pool2d_counts_the_padding_and_matches_pytorch) {
  check_pooling<avg_pool_3_2_1_values>(tl::shape<2, 3, 9, 7>{}, tl::shape<2, 3, 5, 4>{},
                                       [](auto p) { return tl::avg_pool2d<3, 2, 1>(p); });
  check_pooling<avg_pool_2_values>(tl::shape<2, 3, 7, 5>{}, tl::shape<2, 3, 3, 2>{},
                                   [](auto p) { return tl::avg_pool2d<2>(p); });
}

BOOST_AUTO_TEST_CASE(global_avg_pool2d_is_the_mean_of_each_plane_as_pytorch) {
  check_pooling<global_avg_pool_values>(tl::shape<2, 3, 5, 7>{}, tl::shape<2, 3>{},
                                        [](auto p) { return tl::global_avg_pool2d(p); });
}

BOOST_AUTO_TEST_CASE(flatten_feeds_a_linear_layer_as_torch_flatten) {
  namespace r = reference::flatten_linear;
  constexpr auto P = tl::param<"P", double, 2, 3, 4, 5>;
  constexpr auto W = tl::param<"W", double, 7, 60>;
  constexpr auto C = tl::param<"C", double, 7>;
  constexpr auto B = tl::input<"B", double, 2, 7>;
  static_assert(std::is_same_v<tl::shape_of<decltype(tl::flatten(P))>, tl::shape<2, 60>>);
  constexpr auto loss = tl::sum((tl::matmul(tl::flatten(P), tl::transpose(W)) + C) * B);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"P">(), r::P);
  test::fill(params.get<"W">(), r::W);
  test::fill(params.get<"C">(), r::C);
  tl::tensor<double, 2, 7> b;
  test::fill(b, r::B);
  TAPELESS_CHECK_LOSS_AND_GRADIENTS(program, params, r, B = b);
  test::check_close("dW", params.grad<"W">(), r::grad_W, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance, B = b);
}

// The argmax indices live in the pooling kernel's scratch until the backward
// kernel reads them: the plan must keep that scratch apart from every buffer
// placed in between (a convolution's unrolled input, here).
BOOST_AUTO_TEST_CASE(max_pool2d_indices_outlive_the_kernels_between_forward_and_backward) {
  constexpr auto P = tl::param<"P", float, 2, 3, 8, 8>;
  constexpr auto W = tl::param<"W", float, 4, 3, 3, 3>;
  constexpr auto loss = tl::sum(tl::square(tl::conv2d<tl::conv_options{.padding = 1}>(tl::max_pool2d<2>(P), W)));
  auto program = tl::compile(loss);
  using S = decltype(program)::training_schedule;
  bool found = false;
  for (std::size_t i = 0; i < S::node_count; ++i) {
    const auto& n = S::graph.nodes[i];
    if (!n.scratch_lives_with_result) continue;
    found = true;
    const std::size_t lo = S::plan.scratch_offset[i], hi = lo + n.scratch_bytes;
    for (std::size_t k = 0; k < S::plan.kernel_count; ++k) {
      const int j = S::plan.schedule[k];
      if (S::plan.position[i] > int(k) || S::plan.last_read[i] < int(k) || j == int(i)) continue;
      // Anything written by kernel k while the indices are alive must not overlap them.
      if (S::plan.in_arena[j])
        BOOST_TEST((S::plan.offset[j] >= hi || S::plan.offset[j] + S::graph.nodes[j].bytes <= lo), "buffer " << j);
      if (S::graph.nodes[j].scratch_bytes > 0)
        BOOST_TEST((S::plan.scratch_offset[j] >= hi || S::plan.scratch_offset[j] + S::graph.nodes[j].scratch_bytes <= lo),
                   "scratch " << j);
    }
  }
  BOOST_TEST(found);
}
