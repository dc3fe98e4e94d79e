#pragma once
// A GEMM's fused epilogue named by what it computes, not by its program.
//
// simd::gemm and simd::gemm_share are templates over their epilogue, so an
// epilogue typed by its program's schedule makes each program compile its
// own copy of a GEMM: a model's training step and its forward-only program
// (validation, inference) computed the same layer, X W^T + b and its
// activation, by two identical kernels (the transformer example had five
// such pairs, each 0.2-0.4 s of g++'s back end). Here the root's fused tree is
// rewritten in a canonical form: the product is a placeholder, each value
// read from memory is an operand slot (its shape, which says how it
// broadcasts; its address is filled in at run time from the program's
// context), an output is the identity it is. The same layer in two programs,
// or two equal layers in one, then instantiate one GEMM.
//
// Only trees of plain elementwise operations, exact constants and values in
// memory take this form; anything that reads the context inside the loop
// (dropout's seed and step, labelled run-time constants, one-hot labels) or
// its own position keeps the schedule's epilogue (matmul.hpp).

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <tapeless/compile/kernels/elementwise.hpp>
#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/compile/kernels/loop.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/math_constant.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/xsimd.hpp>

namespace tapeless::detail {

// The placeholders of a canonical tree: the GEMM's product, and operand slot
// K read from memory, each of shape Shape (an operand's broadcasts to the
// loop's shape).
template <class Shape>
struct epilogue_product {
  using shape_type = Shape;
};
template <std::size_t K, class Shape>
struct epilogue_operand {
  using shape_type = Shape;
};

template <class N>
inline constexpr bool is_epilogue_product = false;
template <class Shape>
inline constexpr bool is_epilogue_product<epilogue_product<Shape>> = true;

template <class Shape>
struct kernel_family_of<epilogue_product<Shape>> {
  using type = kernel_family_defaults;
};
template <class N>
inline constexpr bool is_epilogue_operand = false;
template <std::size_t K, class Shape>
inline constexpr bool is_epilogue_operand<epilogue_operand<K, Shape>> = true;

template <std::size_t K, class Shape>
struct kernel_family_of<epilogue_operand<K, Shape>> {
  using type = kernel_family_defaults;
};

// What a node of the fused tree of loop F becomes in the canonical form.
enum class epilogue_part { product, constant, operation, identity, memory, other };

template <class F, class N>
constexpr epilogue_part epilogue_part_of() {
  using family = family_of<N>;
  if constexpr (F::template is_product<N>)
    return epilogue_part::product;
  else if constexpr (family::in_register)
    return is_exact<N> || is_math_constant<N> ? epilogue_part::constant : epilogue_part::other;
  else if constexpr (F::template in_loop<N>) {
    if constexpr (family::output)
      return epilogue_part::identity;  // an output writes its operand's value
    else if constexpr (std::is_same_v<family, elementwise_family>)
      return epilogue_part::operation;
    else
      return epilogue_part::other;
  } else
    return epilogue_part::memory;
}

// The values read from memory in the tree rooted at N, in first-visit order
// after Found (each once), and whether the tree takes the canonical form.
template <class F, class N, class Found, epilogue_part Part = epilogue_part_of<F, N>()>
struct epilogue_operands {
  using type = Found;
  static constexpr bool canonical = Part != epilogue_part::other;
};
template <class F, class N, class... Found>
struct epilogue_operands<F, N, type_list<Found...>, epilogue_part::memory> {
  using type = std::conditional_t<(__is_same(N, Found) || ...), type_list<Found...>, type_list<Found..., N>>;
  static constexpr bool canonical = true;
};
template <class F, class Found, class... Ns>
struct epilogue_operands_each {
  using type = Found;
  static constexpr bool canonical = true;
};
template <class F, class Found, class N, class... Ns>
struct epilogue_operands_each<F, Found, N, Ns...> {
  using first = epilogue_operands<F, N, Found>;
  using rest = epilogue_operands_each<F, typename first::type, Ns...>;
  using type = typename rest::type;
  static constexpr bool canonical = first::canonical && rest::canonical;
};
template <class F, class Op, class... Os, class Found, epilogue_part Part>
  requires(Part == epilogue_part::operation || Part == epilogue_part::identity)
struct epilogue_operands<F, node<Op, Os...>, Found, Part> : epilogue_operands_each<F, Found, Os...> {};

// The canonical form of the tree rooted at N, its memory operands numbered
// by their place in Operands.
template <class F, class Operands, class N, epilogue_part Part = epilogue_part_of<F, N>()>
struct canonical_epilogue;
template <class F, class Operands, class N>
struct canonical_epilogue<F, Operands, N, epilogue_part::product> {
  using type = epilogue_product<shape_of<N>>;
};
template <class F, class Operands, class N>
struct canonical_epilogue<F, Operands, N, epilogue_part::constant> {
  using type = N;
};
template <class F, class Operands, class N>
struct canonical_epilogue<F, Operands, N, epilogue_part::memory> {
  using type = epilogue_operand<index_of_v<N, Operands>, shape_of<N>>;
};
template <class F, class Operands, class Op, class... Os>
struct canonical_epilogue<F, Operands, node<Op, Os...>, epilogue_part::operation> {
  using type = node<Op, typename canonical_epilogue<F, Operands, Os>::type...>;
};
template <class F, class Operands, class Op, class A>
struct canonical_epilogue<F, Operands, node<Op, A>, epilogue_part::identity> {
  using type = typename canonical_epilogue<F, Operands, A>::type;
};

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

namespace {
// In an unnamed namespace, as schedule_key<Key> is: the GEMMs instantiated
// over it keep internal linkage, as they had when typed by a schedule, so
// g++ optimizes them as before (a GEMM called once is inlined into its
// caller) and two translation units never share one.
template <class Root, class T, class S, std::size_t Operands>
struct shared_epilogue;
}  // namespace

// The loop over S that a canonical tree's values are computed in (the
// interface fused_values gives the families' loop_value).
template <class Root, class Element, class S, std::size_t Operands>
struct shared_epilogue_values {
  struct sched {
    using nodes = topological_order<Root>;
    template <std::size_t J>
    using node_at = typename type_at<J, nodes>::type;
    template <class N>
    static constexpr std::size_t index = index_of_v<N, nodes>;
  };
  using context = shared_epilogue<Root, Element, S, Operands>;
  using T = Element;
  static constexpr std::size_t columns = loop_columns<S, false>;

  template <class N>
  static constexpr bool is_product = is_epilogue_product<N>;
  // Asked of what is neither the product nor a constant: the operations.
  template <class N>
  static constexpr bool in_loop = !is_epilogue_operand<N>;

  template <std::size_t J, class V>
  static constexpr loop_value_at<shared_epilogue_values, J, V> value{};

  // Slot K, read as fused_values reads a node from its buffer.
  template <std::size_t J, class V>
  TAPELESS_ALWAYS_INLINE static V load(const context& c, std::size_t row, std::size_t col) noexcept {
    return load_slot<V>(c, row, col, typename sched::template node_at<J>{});
  }
  template <class V, std::size_t K, class L>
  TAPELESS_ALWAYS_INLINE static V load_slot(const context& c, std::size_t row, std::size_t col,
                                            epilogue_operand<K, L>) noexcept {
    using map = operand_map<L, S>;
    const T* at = c.operands[K] + map::row_offset(row);
    if constexpr (map::contiguous)
      return simd::load<V>(at + col);
    else if constexpr (S::rank > 0 && map::stride[S::rank - 1] == 0)
      return V(*at);
    else
      return V(*(at + col));  // a single column
  }
};

namespace {
// The epilogue: Root's value at each element of the product, its operands
// read from the addresses given.
template <class Root, class T, class S, std::size_t Operands>
struct shared_epilogue {
  std::array<const T*, Operands> operands;
  template <class V, class At>
  TAPELESS_ALWAYS_INLINE V operator()(const V& product, const At& at) const noexcept {
    using values = shared_epilogue_values<Root, T, S, Operands>;
    return values::template value<values::sched::template index<Root>, V>(*this, at.row, at.col, product);
  }
};
}  // namespace

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

// The canonical epilogue of loop F's tree rooted at Root, if it has one.
template <class F, class Root>
struct epilogue_form {
  using found = epilogue_operands<F, Root, type_list<>>;
  static constexpr bool canonical = found::canonical;
  using operands = typename found::type;
};

// Its type (only where canonical).
template <class F, class Root>
using shared_epilogue_of =
    shared_epilogue<typename canonical_epilogue<F, typename epilogue_form<F, Root>::operands, Root>::type,
                    typename F::T, shape_of<Root>, epilogue_form<F, Root>::operands::size>;

// The canonical epilogue of loop F's tree rooted at node index R, its
// operands' addresses from the program's context. By index, with its
// operands by position: a function or lambda over node types would spell
// them in its symbol name (compile/kernels/family.hpp).
template <class F, std::size_t R, class Ctx>
auto make_shared_epilogue(const Ctx& c) noexcept {
  using Sched = typename F::sched;
  using Root = typename Sched::template node_at<R>;
  using operands = typename epilogue_form<F, Root>::operands;
  return [&]<std::size_t... K>(std::index_sequence<K...>) {
    [[maybe_unused]] constexpr std::size_t at[] = {Sched::template index<typename type_at<K, operands>::type>..., 0};
    static_assert((std::is_same_v<std::remove_cvref_t<decltype(*Sched::template pointer<at[K]>(c))>, typename F::T> &&
                   ...),
                  "tapeless::compile: an integer input (class labels) can only be read by "
                  "gather, one_hot or cross_entropy, not by arithmetic");
    return shared_epilogue_of<F, Root>{{Sched::template pointer<at[K]>(c)...}};
  }(std::make_index_sequence<operands::size>{});
}

}  // namespace tapeless::detail
