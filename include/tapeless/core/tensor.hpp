#pragma once
// tensor<T, Dims...>: a value with a static shape, stored inline, row-major,
// aligned to 64 bytes (a cache line, and the widest SIMD register).
//
//   tl::tensor<float, 64, 784> x{};   // {} zero-fills; without it the
//                                     // elements are left uninitialized
//   x(3, 5) = 1.f;                    // row-major: x.data()[3 * 784 + 5]
//   tl::tensor<double> s{};           // rank 0: one element, s() = 2.0
//
// There is no heap: sizeof(tensor) is the size of its elements (rounded up to
// 64 bytes). A large tensor does not belong on the stack; allocate it once,
// outside any hot loop, e.g. std::make_unique<tl::tensor<float, 256, 784>>()
// (zero-filled; std::make_unique_for_overwrite leaves it uninitialized).
// operator new honours the 64-byte alignment since C++17.

#include <tapeless/core/shape.hpp>
#include <tapeless/core/storage.hpp>

#include <cassert>
#include <concepts>
#include <cstddef>
#include <type_traits>

namespace tapeless {

template <class T, std::size_t... Dims>
class tensor {
  static_assert(((Dims > 0) && ...),
                "tl::tensor<T, Dims...>: every dimension must be at least 1 "
                "(a rank-0 tensor, tensor<T>, holds one element)");

 public:
  using value_type = T;
  using shape_type = shape<Dims...>;
  using size_type = std::size_t;
  using iterator = T*;
  using const_iterator = const T*;

  static constexpr std::size_t rank = sizeof...(Dims);
  // data() is 64-byte aligned: enough for aligned loads of any x86 SIMD
  // register, and no tensor shares a cache line with another.
  static constexpr std::size_t alignment = buffer_alignment;

  static constexpr std::size_t size() noexcept { return shape_type::size; }
  static constexpr std::size_t extent(std::size_t axis) noexcept { return shape_type::dims[axis]; }

  constexpr T* data() noexcept { return values_; }
  constexpr const T* data() const noexcept { return values_; }

  constexpr iterator begin() noexcept { return values_; }
  constexpr iterator end() noexcept { return values_ + size(); }
  constexpr const_iterator begin() const noexcept { return values_; }
  constexpr const_iterator end() const noexcept { return values_ + size(); }

  // Element at the row-major flat position i.
  constexpr T& operator[](std::size_t i) noexcept { return assert(i < size()), values_[i]; }
  constexpr const T& operator[](std::size_t i) const noexcept { return assert(i < size()), values_[i]; }

  // Element at (i, j, ...), one index per dimension, row-major.
  template <std::convertible_to<std::size_t>... I>
    requires(sizeof...(I) == rank)
  constexpr T& operator()(I... index) noexcept {
    return values_[offset(static_cast<std::size_t>(index)...)];
  }
  template <std::convertible_to<std::size_t>... I>
    requires(sizeof...(I) == rank)
  constexpr const T& operator()(I... index) const noexcept {
    return values_[offset(static_cast<std::size_t>(index)...)];
  }

  constexpr void fill(const T& value) noexcept {
    for (T& v : values_) v = value;
  }

  friend constexpr bool operator==(const tensor&, const tensor&) = default;

 private:
  // Row-major: ((i0 * d1 + i1) * d2 + i2) ..., a flat fold, no recursion.
  template <class... I>
  static constexpr std::size_t offset(I... index) noexcept {
    assert(((index < Dims) && ...) && "tl::tensor: index out of range");
    std::size_t flat = 0;
    ((flat = flat * Dims + index), ...);
    return flat;
  }

  alignas(alignment) T values_[shape_type::size];
};

namespace detail {
template <class T>
inline constexpr bool is_tensor = false;
template <class T, std::size_t... Dims>
inline constexpr bool is_tensor<tensor<T, Dims...>> = true;
}  // namespace detail

// True for every tl::tensor<T, Dims...>.
template <class T>
concept any_tensor = detail::is_tensor<std::remove_cvref_t<T>>;

namespace detail {
template <class T, class Shape>
struct tensor_for_shape;
template <class T, std::size_t... Dims>
struct tensor_for_shape<T, shape<Dims...>> {
  using type = tensor<T, Dims...>;
};
}  // namespace detail

// The tensor type holding values of element type T and shape Shape.
template <class T, class Shape>
using tensor_for = typename detail::tensor_for_shape<T, Shape>::type;

}  // namespace tapeless
