#pragma once
// A forward-only program's transposed copies of small weights.
//
// nn::linear computes x W^T with W stored [out, in] (PyTorch's layout). With
// few rows of x, a product read from that layout is a dot product per output
// ending in a lane reduction (about three instructions per output more than
// the broadcast-and-FMA loop over W^T that a hand-written layer uses). So a
// forward-only program, once asked with program.pack_weights(params), keeps
// W^T [in, out] for each such product, in memory of its own, and runs it by
// broadcast-and-FMA. The copy is made again when the store's version()
// differs from the one it was made from (one comparison per call; see
// core/parameter_store.hpp for which writes the store sees, and
// TAPELESS_CHECK_PACKED_WEIGHTS for the check of the others).
//
// Why only when asked: a write through a reference or pointer kept from
// before a call is invisible to the store, and comparing the copy with the
// weight at every call costs more than the lane sums it saves. Packing by
// default would turn that write into a silently stale result; asked for, it
// is a promise the user made (announce such writes with mark_changed()).
//
// Which products: inlined into the step (matmul.hpp), fewer than 8 rows
// (from 8 rows on, gemm copies B^T per call itself: gemm_plan.hpp), A read
// as stored, B the transposed view of a param, and whole batches of outputs
// (a layer of one output keeps its single dot product).
//
// A node that runs a schedule of its own (a scan's body: kernels/scan.hpp)
// keeps its schedule's copies inside the program's, at the node's offset: its
// family names that schedule's packed_weights as packed_inside<Sched, N>. So
// a streamed recurrent layer (tl::stream) reads W_hh^T at every step.

#include <array>
#include <bit>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/core/parameter_store.hpp>
#include <tapeless/core/storage.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/matmul.hpp>
#include <tapeless/expr/parameter_symbols.hpp>
#include <tapeless/expr/symbol.hpp>
#include <tapeless/simd/lanes.hpp>

#ifndef TAPELESS_CHECK_PACKED_WEIGHTS
#ifdef NDEBUG
#define TAPELESS_CHECK_PACKED_WEIGHTS 0
#else
#define TAPELESS_CHECK_PACKED_WEIGHTS 1
#endif
#endif

namespace tapeless::detail {

// A GEMM of at most this many multiply-adds is inlined into the step (matmul.hpp).
inline constexpr std::size_t inlined_gemm_bound = 4096;

template <class N>
constexpr bool is_matmul_node = false;
template <std::size_t M, std::size_t K, std::size_t N, class A, class B>
constexpr bool is_matmul_node<node<matmul_op<M, K, N>, A, B>> = true;

template <class N>
inline constexpr bool is_transpose_node = false;
template <std::size_t R, std::size_t C, class A>
inline constexpr bool is_transpose_node<node<transpose_op<R, C>, A>> = true;

// Does matmul node Mm read its weight from the program's transposed copy?
template <class Sched, class Mm>
constexpr bool reads_packed_weight() {
  if constexpr (!is_matmul_node<Mm>) {
    return false;
  } else {
    using A = typename type_at<0, typename operands_of<Mm>::type>::type;
    using B = typename type_at<1, typename operands_of<Mm>::type>::type;
    constexpr std::size_t m = shape_of<A>::dims[0], k = shape_of<A>::dims[1], n = shape_of<B>::dims[1];
    constexpr std::size_t lanes = simd::lanes<typename Sched::value_type, typename Sched::arch>;
    // The transposed copy is read by broadcasting x, a load (or two
    // shuffles) per k, where the weight as stored is read by dot products
    // and a lane-sum tree per batch of outputs. With AVX-512 the broadcasts
    // pay up to k = n: packed, 16 -> 16 ran 0.73x and 32 -> 64 0.89x the
    // time of the dot products, but 64 -> 16 1.65-1.69x (32 -> 16 1.01x).
    // With AVX2 packing lost 1.1-1.5x wherever the outputs were one or two
    // batches (16 -> 8, 16 -> 16, 32 -> 16, 64 -> 16) and won at 16 -> 24 and
    // 16 -> 32; at 32 -> 32 and 32 -> 64 alone it lost 1.1x, but W1's
    // 16 -> 32 -> 32 -> 1 ran 11% slower with its 32 -> 32 unpacked, so wider
    // layers keep packing there (bench/results/batch1.md, round 7).
    constexpr std::size_t vector_bytes = lanes * sizeof(typename Sched::value_type);
    constexpr bool broadcasts_cost_more = (vector_bytes >= 64 && k > n) || (vector_bytes == 32 && n < 3 * lanes);
    if constexpr (m * k * n > inlined_gemm_bound || m >= 8 || n % lanes != 0 || Sched::template is_transpose_view<A> ||
                  !Sched::template is_transpose_view<B> || !is_transpose_node<B> || broadcasts_cost_more)
      return false;
    else
      return is_parameter_symbol<typename front<typename operands_of<B>::type>::type>;
  }
}

// The packed_weights of the schedule node N runs inside (void: none).
template <class Sched, class N>
struct packing_inside_of {
  using type = void;
};
template <class Sched, class N>
  requires requires { typename family_of<N>::template packed_inside<Sched, N>; }
struct packing_inside_of<Sched, N> {
  using type = typename family_of<N>::template packed_inside<Sched, N>;
};

template <class Sched>
struct packed_weights {
  using T = typename Sched::value_type;

  template <class Mm>
  static constexpr bool packs = reads_packed_weight<Sched, Mm>();

  // The packing of the schedule node N runs inside, or void.
  template <class N>
  using inside = typename packing_inside_of<Sched, N>::type;

  // The weight W (a param [n, k]) whose transpose Mm reads.
  template <class Mm>
  using weight = typename front<typename operands_of<typename type_at<1, typename operands_of<Mm>::type>::type>::type>::type;

  template <class N>
  static constexpr std::size_t bytes_of() {
    if constexpr (packs<N>)
      return align_up(shape_of<weight<N>>::size * sizeof(T));
    else if constexpr (!std::is_void_v<inside<N>>)
      return align_up(inside<N>::bytes);
    else
      return 0;
  }

  // offsets[i]: where node i's copy starts; offsets[node_count]: the bytes of all.
  static constexpr std::array<std::size_t, Sched::node_count + 1> offsets = [] {
    std::array<std::size_t, Sched::node_count + 1> o{};
    std::size_t at = 0, i = 0;
    [&]<class... Ns>(type_list<Ns...>) {
      ((o[i++] = at, at += bytes_of<Ns>()), ...);
    }(typename Sched::nodes{});
    o[i] = at;
    return o;
  }();
  static constexpr std::size_t bytes = offsets[Sched::node_count];

  // The copy the matmul at node index J reads (by index: family.hpp).
  template <std::size_t J>
  static const T* copy_of(const std::byte* packed) noexcept {
    return reinterpret_cast<const T*>(packed + offsets[J]);
  }

  // Where the copies of the schedule node at index J runs inside start.
  template <std::size_t J>
  static const std::byte* copies_inside(const std::byte* packed) noexcept {
    return packed + offsets[J];
  }

  // Every copy made again from the store: W^T (k x n) from W (n x k).
  template <class Store>
  static void refresh(const Store& params, std::byte* packed) noexcept {
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      (refresh_one<J>(params, packed), ...);
    }(std::make_index_sequence<Sched::node_count>{});
  }

  // The name of the first weight whose copy differs from its value, or "".
  template <class Store>
  static std::string_view first_stale(const Store& params, const std::byte* packed) noexcept {
    std::string_view name{};
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      ((name = name.empty() ? stale_name<J>(params, packed) : name), ...);
    }(std::make_index_sequence<Sched::node_count>{});
    return name;
  }

 private:
  template <std::size_t J, class Store>
  static void refresh_one(const Store& params, std::byte* packed) noexcept {
    using N = typename Sched::template node_at<J>;
    if constexpr (packs<N>) {
      using W = weight<N>;
      constexpr std::size_t n = shape_of<W>::dims[0], k = shape_of<W>::dims[1];
      const T* w = params.template get<W::name>().data();
      T* t = reinterpret_cast<T*>(packed + offsets[J]);
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < k; ++j) t[j * n + i] = w[i * k + j];
    } else if constexpr (!std::is_void_v<inside<N>>) {
      inside<N>::refresh(params, packed + offsets[J]);
    }
  }

  template <std::size_t J, class Store>
  static std::string_view stale_name(const Store& params, const std::byte* packed) noexcept {
    using N = typename Sched::template node_at<J>;
    if constexpr (packs<N>) {
      using W = weight<N>;
      constexpr std::size_t n = shape_of<W>::dims[0], k = shape_of<W>::dims[1];
      const T* w = params.template get<W::name>().data();
      const T* t = reinterpret_cast<const T*>(packed + offsets[J]);
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < k; ++j)
          // Bitwise: a NaN written and copied is no change.
          if (!same_bits(t[j * n + i], w[i * k + j])) return W::name.view();
    } else if constexpr (!std::is_void_v<inside<N>>) {
      return inside<N>::first_stale(params, packed + offsets[J]);
    }
    return {};
  }

  static bool same_bits(T a, T b) noexcept {
    return std::bit_cast<std::array<std::byte, sizeof(T)>>(a) == std::bit_cast<std::array<std::byte, sizeof(T)>>(b);
  }
};

// Where a program keeps its copies, the store version they were made from,
// and whether the user asked for them (program::pack_weights).
template <std::size_t Bytes>
struct packed_weights_area {
  aligned_bytes<Bytes> copies{};
  store_version made_from{};
  bool requested = false;
};
template <>
struct packed_weights_area<0> {};

// A run context with the program's copies beside it.
template <class Base>
struct packed_weights_context : Base {
  using base_context = Base;
  const std::byte* packed_weights;
};

}  // namespace tapeless::detail
