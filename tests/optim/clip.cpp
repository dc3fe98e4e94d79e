#define BOOST_TEST_MODULE optim_clip
#include <boost/test/unit_test.hpp>

#include <tapeless/optim.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string_view>

namespace tl = tapeless;

namespace {

constexpr std::size_t element_count = 26;  // [3, 7] then [5]
using flat_values = std::array<float, element_count>;

struct norm_case {
  float max_norm, norm;
  flat_values clipped;
};
struct value_case {
  float clip_value;
  flat_values clipped;
};

#include "reference/optim_clipping.inc"

template <class T = float>
using two_parameters = tl::parameter_store<tl::inline_storage, tl::parameter_entry<"a", T, tl::shape<3, 7>>,
                                           tl::parameter_entry<"b", T, tl::shape<5>>>;

template <class Store>
void load_grads(Store& params, const flat_values& flat) {
  std::size_t i = 0;
  params.visit([&](std::string_view, auto&, auto& grad) {
    for (auto& g : grad) g = flat[i++];
  });
}

template <class Store>
flat_values grads_of(const Store& params) {
  flat_values out{};
  std::size_t i = 0;
  params.visit([&](std::string_view, const auto&, const auto& grad) {
    for (auto g : grad) out[i++] = static_cast<float>(g);
  });
  return out;
}

bool close(double ours, double torch) { return std::abs(ours - torch) <= 1e-6 * std::max(std::abs(torch), 1e-2); }

}  // namespace

BOOST_AUTO_TEST_CASE(clip_grad_norm_matches_torch_norm_and_clipped_gradients) {
  for (const auto& c : norm_cases) {
    two_parameters<> params;
    load_grads(params, gradients);
    const float norm = tl::optim::clip_grad_norm(params, c.max_norm);
    BOOST_TEST(close(norm, c.norm), "max_norm " << c.max_norm << ": norm " << norm << " vs torch " << c.norm);
    const auto got = grads_of(params);
    for (std::size_t i = 0; i < element_count; ++i)
      BOOST_TEST(close(got[i], c.clipped[i]), "max_norm " << c.max_norm << " element " << i << ": " << got[i]
                                                          << " vs torch " << c.clipped[i]);
  }
}

BOOST_AUTO_TEST_CASE(clip_grad_norm_leaves_gradients_under_the_limit_bit_for_bit) {
  two_parameters<> params;
  load_grads(params, gradients);
  (void)tl::optim::clip_grad_norm(params, 1e6f);
  BOOST_TEST((grads_of(params) == gradients));
}

BOOST_AUTO_TEST_CASE(clip_grad_norm_scales_to_just_under_max_norm_as_torch_with_its_1e_6) {
  two_parameters<double> params;
  load_grads(params, gradients);
  const double norm = tl::optim::clip_grad_norm(params, 1.f);
  const double after = tl::optim::clip_grad_norm(params, 1e6f);
  BOOST_TEST(after == norm / (norm + 1e-6), boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(clip_grad_norm_spreads_a_nan_norm_as_torch_does) {
  two_parameters<> params;
  load_grads(params, gradients);
  params.grad<"b">()[2] = std::numeric_limits<float>::quiet_NaN();
  BOOST_TEST(std::isnan(tl::optim::clip_grad_norm(params, 1.f)));
  BOOST_TEST(std::isnan(params.grad<"a">()[0]));
}

BOOST_AUTO_TEST_CASE(a_nan_or_negative_limit_is_refused_before_any_gradient_changes) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (float limit : {nan, -1.f, -1e-30f}) {
    two_parameters<> params;
    load_grads(params, gradients);
    BOOST_CHECK_THROW((void)tl::optim::clip_grad_norm(params, limit), std::invalid_argument);
    BOOST_CHECK_THROW(tl::optim::clip_grad_value(params, limit), std::invalid_argument);
    BOOST_TEST((grads_of(params) == gradients), "limit " << limit);
  }
  // Infinity clips nothing, and 0 zeroes every gradient, as in torch.
  two_parameters<> params;
  load_grads(params, gradients);
  (void)tl::optim::clip_grad_norm(params, std::numeric_limits<float>::infinity());
  tl::optim::clip_grad_value(params, std::numeric_limits<float>::infinity());
  BOOST_TEST((grads_of(params) == gradients));
  tl::optim::clip_grad_value(params, 0.f);
  for (float g : grads_of(params)) BOOST_TEST(g == 0.f);
}

BOOST_AUTO_TEST_CASE(clip_grad_value_matches_torch_clamp) {
  for (const auto& c : value_cases) {
    two_parameters<> params;
    load_grads(params, gradients);
    tl::optim::clip_grad_value(params, c.clip_value);
    BOOST_TEST((grads_of(params) == c.clipped), "clip_value " << c.clip_value);
  }
}

BOOST_AUTO_TEST_CASE(clip_grad_value_keeps_nan_in_every_lane_and_the_tail) {
  two_parameters<> params;
  load_grads(params, gradients);
  for (std::size_t i = 0; i < 21; ++i) params.grad<"a">()[i] = std::numeric_limits<float>::quiet_NaN();
  tl::optim::clip_grad_value(params, 0.5f);
  for (float g : params.grad<"a">()) BOOST_TEST(std::isnan(g));
  for (float g : params.grad<"b">()) BOOST_TEST(std::abs(g) <= 0.5f);
}
