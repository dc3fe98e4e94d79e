#pragma once
// Parameter initializers, as torch.nn.init's, seeded and reproducible: the
// same seed gives the same tensors bit for bit on every compiler (they draw
// from tl::random_stream, never from <random>'s distributions).
//
//   tl::init::he_normal(params, 42);                  // a whole store
//   tl::init::xavier_uniform(params, 42, /*gain*/ 1);
//   tl::random_stream rng{7};
//   tl::init::he_normal(params.get<"fc1.weight">(), rng);  // one tensor
//   tl::init::zeros(params.get<"fc1.bias">());
//
// On a whole store, the random initializers fill every weight (a trainable
// tensor of rank >= 2) and set every tensor of rank 0 or 1 (biases, scalars)
// to zero, the usual start for biases, except a norm layer's scale (a 1-D
// "*.weight"), which starts at 1 as in torch; buffers (running statistics)
// go back to their initial values. All weights draw from one random_stream,
// in the store's order. zeros and constant set every trainable tensor.
// Gradients are left alone.
//
// Fans, as torch's _calculate_fan_in_and_fan_out for a weight of shape
// [out, in, k...] (PyTorch's layout): fan_in = in * k..., fan_out = out * k....
//   xavier_uniform  U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))
//   xavier_normal   N(0, s),  s = gain * sqrt(2 / (fan_in + fan_out))
//   he_uniform      U(-a, a), a = sqrt(2) * sqrt(3 / fan_in)   kaiming_uniform_, relu, fan_in
//   he_normal       N(0, s),  s = sqrt(2) / sqrt(fan_in)       kaiming_normal_, relu, fan_in

#include <tapeless/core/parameter_store.hpp>
#include <tapeless/core/random.hpp>
#include <tapeless/core/tensor.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <string_view>
#include <type_traits>

namespace tapeless::init {

namespace detail {

struct fans {
  double in, out;
};

template <std::size_t Out, std::size_t In, std::size_t... Receptive>
constexpr fans fans_of() noexcept {
  constexpr double receptive = (1.0 * ... * double(Receptive));
  return {double(In) * receptive, double(Out) * receptive};
}

template <class T, std::size_t... Dims>
constexpr void check_weight() noexcept {
  static_assert(sizeof...(Dims) >= 2,
                "tl::init: a tensor of rank 0 or 1 has no fan_in and fan_out (torch raises too); "
                "initialize biases with tl::init::zeros or constant, or the whole store");
  static_assert(std::is_floating_point_v<T>, "tl::init: random initializers need a floating-point tensor");
}

template <class T, std::size_t... Dims>
void fill_uniform(tensor<T, Dims...>& t, random_stream& rng, double bound) noexcept {
  const T a = static_cast<T>(bound);
  for (T& x : t) x = rng.uniform<T>(-a, a);
}

template <class T, std::size_t... Dims>
void fill_normal(tensor<T, Dims...>& t, random_stream& rng, double standard_deviation) noexcept {
  const T s = static_cast<T>(standard_deviation);
  for (T& x : t) x = rng.normal<T>(T(0), s);
}

// weight(t) for trainable tensors of rank >= 2 in store order; the others
// (biases, norm scales, buffers) back to their initial values (0, or 1 for
// norm scales and running variances: parameter_entry::initial_value).
template <class Storage, class... Entries, class Weight>
void weights_and_zero_biases(parameter_store<Storage, Entries...>& params, Weight&& weight) noexcept {
  params.visit_entries([&](auto entry, auto& value, auto&) {
    using E = decltype(entry);
    using tensor_type = std::remove_cvref_t<decltype(value)>;
    if constexpr (tensor_type::rank >= 2 && E::trainable)
      weight(value);
    else
      value.fill(static_cast<typename tensor_type::value_type>(E::initial_value));
  });
}

inline constexpr double relu_gain = std::numbers::sqrt2;  // torch.nn.init.calculate_gain("relu")

}  // namespace detail

// ---- one tensor --------------------------------------------------------------

template <class T, std::size_t... Dims>
void zeros(tensor<T, Dims...>& t) noexcept {
  t.fill(T(0));
}

template <class T, std::size_t... Dims>
void constant(tensor<T, Dims...>& t, std::type_identity_t<T> value) noexcept {
  t.fill(value);
}

template <class T, std::size_t... Dims>
void xavier_uniform(tensor<T, Dims...>& t, random_stream& rng, double gain = 1) noexcept {
  detail::check_weight<T, Dims...>();
  if constexpr (sizeof...(Dims) >= 2) {
    const auto f = detail::fans_of<Dims...>();
    detail::fill_uniform(t, rng, std::sqrt(3.0) * (gain * std::sqrt(2.0 / (f.in + f.out))));
  }
}

template <class T, std::size_t... Dims>
void xavier_normal(tensor<T, Dims...>& t, random_stream& rng, double gain = 1) noexcept {
  detail::check_weight<T, Dims...>();
  if constexpr (sizeof...(Dims) >= 2) {
    const auto f = detail::fans_of<Dims...>();
    detail::fill_normal(t, rng, gain * std::sqrt(2.0 / (f.in + f.out)));
  }
}

template <class T, std::size_t... Dims>
void he_uniform(tensor<T, Dims...>& t, random_stream& rng) noexcept {
  detail::check_weight<T, Dims...>();
  if constexpr (sizeof...(Dims) >= 2) {
    const auto f = detail::fans_of<Dims...>();
    detail::fill_uniform(t, rng, std::sqrt(3.0) * (detail::relu_gain / std::sqrt(f.in)));
  }
}

template <class T, std::size_t... Dims>
void he_normal(tensor<T, Dims...>& t, random_stream& rng) noexcept {
  detail::check_weight<T, Dims...>();
  if constexpr (sizeof...(Dims) >= 2) {
    const auto f = detail::fans_of<Dims...>();
    detail::fill_normal(t, rng, detail::relu_gain / std::sqrt(f.in));
  }
}

// ---- a whole store: weights drawn in store order, rank 0 and 1 set to zero ---

// zeros and constant set every trainable parameter; buffers go back to their initial values.
template <class Storage, class... Entries>
void zeros(parameter_store<Storage, Entries...>& params) noexcept {
  params.reset_to_initial_values();
  params.visit_trainable([](std::string_view, auto& value, auto&) { init::zeros(value); });
}

template <class Storage, class... Entries>
void constant(parameter_store<Storage, Entries...>& params, double value) noexcept {
  params.reset_to_initial_values();
  params.visit_trainable([=](std::string_view, auto& v, auto&) {
    v.fill(static_cast<typename std::remove_cvref_t<decltype(v)>::value_type>(value));
  });
}

template <class Storage, class... Entries>
void xavier_uniform(parameter_store<Storage, Entries...>& params, random_stream& rng, double gain = 1) noexcept {
  detail::weights_and_zero_biases(params, [&](auto& weight) { init::xavier_uniform(weight, rng, gain); });
}
template <class Storage, class... Entries>
void xavier_uniform(parameter_store<Storage, Entries...>& params, std::uint64_t seed, double gain = 1) noexcept {
  random_stream rng{seed};
  init::xavier_uniform(params, rng, gain);
}

template <class Storage, class... Entries>
void xavier_normal(parameter_store<Storage, Entries...>& params, random_stream& rng, double gain = 1) noexcept {
  detail::weights_and_zero_biases(params, [&](auto& weight) { init::xavier_normal(weight, rng, gain); });
}
template <class Storage, class... Entries>
void xavier_normal(parameter_store<Storage, Entries...>& params, std::uint64_t seed, double gain = 1) noexcept {
  random_stream rng{seed};
  init::xavier_normal(params, rng, gain);
}

template <class Storage, class... Entries>
void he_uniform(parameter_store<Storage, Entries...>& params, random_stream& rng) noexcept {
  detail::weights_and_zero_biases(params, [&](auto& weight) { init::he_uniform(weight, rng); });
}
template <class Storage, class... Entries>
void he_uniform(parameter_store<Storage, Entries...>& params, std::uint64_t seed) noexcept {
  random_stream rng{seed};
  init::he_uniform(params, rng);
}

template <class Storage, class... Entries>
void he_normal(parameter_store<Storage, Entries...>& params, random_stream& rng) noexcept {
  detail::weights_and_zero_biases(params, [&](auto& weight) { init::he_normal(weight, rng); });
}
template <class Storage, class... Entries>
void he_normal(parameter_store<Storage, Entries...>& params, std::uint64_t seed) noexcept {
  random_stream rng{seed};
  init::he_normal(params, rng);
}

}  // namespace tapeless::init
