#pragma once
// scan: one step of a recurrence, applied along a sequence's time axis.
//
//   constexpr auto h = tl::input<"h", float, 2, 4>;   // the carry, one step's state [N, S]
//   constexpr auto x = tl::input<"x", float, 2, 3>;   // one step's input [N, F]
//   constexpr auto W = tl::param<"W", float, 4, 3>;
//   constexpr auto U = tl::param<"U", float, 4, 4>;
//   constexpr auto next = tl::tanh(tl::matmul(x, tl::transpose(W)) + tl::matmul(h, tl::transpose(U)));
//   constexpr auto hs = tl::scan(next, h, x, X);      // X [2, T, 3] -> every carry, [2, T, 4]
//
// The body is an ordinary expression over two placeholders (the carry and the
// step's input, declared as inputs; the scan binds them at every step) and
// params. It is a type, compiled once: the sequence length T is a number in
// the scan's shape, never a count of types (DESIGN principle 7), so a
// sequence of 1000 steps compiles as fast as one of 10.
//
// The scan's operands are the sequence, the initial carry when one is given
// (zeros otherwise) and every param the body reads, so parameters_of and the
// gradient see them. Its derivative is a reverse scan (backpropagation through
// time) over the body's own derivative, reading the carries the forward scan
// stored: diff/rules/scan.hpp.

#include <cstddef>
#include <string_view>
#include <type_traits>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/label.hpp>
#include <tapeless/expr/node.hpp>
#include <tapeless/expr/parameter_symbols.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless {

// A scan of Body along axis 1 of its first operand [N, T, F]: Carry [N, S] and
// Step [N, F] are the body's placeholders; with InitialCarry, operand 1 is
// the carry before the first step, else it is zero. The remaining operands
// are the body's params, in the order its graph meets them. KeepsState: the
// initial carry is an input bound to memory the caller lends (a streaming
// program's state, compile/streaming.hpp), and the last carry is written
// back there, so that the next call goes on where this one stopped.
// TimeMajor: the sequence is [T, N, F] and the result [T, N, S] (scan_time_major).
template <class Body, class Carry, class Step, bool InitialCarry, bool KeepsState = false, bool TimeMajor = false>
struct scan_op {
  static constexpr std::string_view name = "scan";
  using body = Body;
  using carry_symbol = Carry;
  using step_symbol = Step;
  static constexpr bool has_initial_carry = InitialCarry;
  static constexpr bool keeps_state = KeepsState;
  static constexpr bool time_major = TimeMajor;
  static constexpr std::size_t batch = Carry::shape_type::dims[0];
  static constexpr std::size_t state = Carry::shape_type::dims[1];
  static constexpr std::size_t features = Step::shape_type::dims[1];

  template <class X, class... Rest>
  struct result_shape {
    using type = std::conditional_t<TimeMajor, shape<X::dims[0], batch, state>, shape<batch, X::dims[1], state>>;
  };
};

// The reverse scan of node Forward (a scan_op node): the gradients of all of
// the scan's operands at once, one after the other in operand order, as one
// flat buffer [dX, (dH0,) dP...]. Its operands: the scan's sequence, the
// scan itself (its stored carries), the adjoint of its output, then the
// scan's other operands.
template <class Forward>
struct scan_gradient_op {
  static constexpr std::string_view name = "scan_gradient";
  using forward = Forward;

  // Shapes: the sequence, the forward scan, its adjoint, then the scan's other operands.
  template <class... Shapes>
  struct result_shape {
    static constexpr std::size_t size = [] {
      constexpr std::size_t sizes[] = {Shapes::size...};
      std::size_t n = sizes[0];
      for (std::size_t i = 3; i < sizeof...(Shapes); ++i) n += sizes[i];
      return n;
    }();
    using type = shape<size>;
  };
};

// One operand's gradient inside a scan_gradient's flat buffer: Shape
// elements from Offset.
template <std::size_t Offset, class Shape>
struct scan_part_op {
  static constexpr std::string_view name = "scan_part";
  static constexpr std::size_t offset = Offset;
  template <class A>
  struct result_shape {
    using type = Shape;
  };
};

namespace detail {

template <class Body, class Carry, class Step>
struct scan_body_must_map_carry_n_s_to_carry {
  static_assert(always_false<Body, Carry, Step>,
                "tapeless::scan(body, carry, step, sequence): carry and step must be inputs of shape "
                "[N, S] and [N, F] (rank 2, the same N), and the body's shape must be the carry's; "
                "see the body, the carry and the step above");
  static constexpr bool ok = false;
};

template <class Sequence, class Step>
struct scan_time_major_sequence_must_be_t_n_f {
  static_assert(always_false<Sequence, Step>,
                "tapeless::scan_time_major: the sequence must be [T, N, F] (time first) where the step's "
                "input is [N, F]; see the sequence's shape and the step above");
  static constexpr bool ok = false;
};

template <class Sequence, class Step>
struct scan_sequence_must_be_n_t_f {
  static_assert(always_false<Sequence, Step>,
                "tapeless::scan: the sequence must be [N, T, F] (batch first) where the step's "
                "input is [N, F]; see the sequence's shape and the step above");
  static constexpr bool ok = false;
};

template <class Initial, class Carry>
struct scan_initial_carry_must_have_the_carry_shape {
  static_assert(always_false<Initial, Carry>,
                "tapeless::scan(body, carry, step, sequence, initial): the initial carry must have the "
                "carry's shape [N, S]; see both above");
  static constexpr bool ok = false;
};

template <class Body, class Symbol>
struct scan_body_reads_a_symbol_it_is_not_given {
  static_assert(always_false<Body, Symbol>,
                "tapeless::scan: the body may read only its carry, its step's input and params; "
                "it reads the symbol above (pass outer values through the sequence or a param)");
  static constexpr bool ok = false;
};

template <class Body>
struct scan_body_holds_a_run_time_constant {
  static_assert(always_false<Body>,
                "tapeless::scan: the body is compiled from its type alone, so its constants must be "
                "exact (tl::c<1, 2>, 0.5_c), not plain numbers; see the body above");
  static constexpr bool ok = false;
};

template <class Body, class Carry, class Step, class Nodes>
struct scan_body_symbols_check;
template <class Body, class Carry, class Step, class... Nodes>
struct scan_body_symbols_check<Body, Carry, Step, type_list<Nodes...>> {
  template <class N>
  static constexpr bool allowed() {
    if constexpr (!is_symbol<N> || std::is_same_v<N, Carry> || std::is_same_v<N, Step>)
      return true;
    else if constexpr (N::kind == symbol_kind::parameter)
      return true;
    else
      return scan_body_reads_a_symbol_it_is_not_given<Body, N>::ok;
  }
  static constexpr bool ok = (allowed<Nodes>() && ...);
};

template <class S>
inline constexpr bool is_rank_2 = S::rank == 2;

template <class Body, class Carry, class Step, class Sequence, bool TimeMajor = false>
constexpr bool check_scan() {
  using SC = typename Carry::shape_type;
  using SS = typename Step::shape_type;
  using SX = shape_of<Sequence>;
  if constexpr (!is_symbol<Carry> || !is_symbol<Step> || !is_rank_2<SC> || !is_rank_2<SS> ||
                !std::is_same_v<shape_of<Body>, SC> || SC::dims[0] != SS::dims[0])
    return scan_body_must_map_carry_n_s_to_carry<Body, Carry, Step>::ok;
  else if constexpr (TimeMajor && (SX::rank != 3 || SX::dims[1] != SS::dims[0] || SX::dims[2] != SS::dims[1]))
    return scan_time_major_sequence_must_be_t_n_f<SX, Step>::ok;
  else if constexpr (!TimeMajor && (SX::rank != 3 || SX::dims[0] != SS::dims[0] || SX::dims[2] != SS::dims[1]))
    return scan_sequence_must_be_n_t_f<SX, Step>::ok;
  else if constexpr (!is_stateless<Body>)
    return scan_body_holds_a_run_time_constant<Body>::ok;
  else
    return scan_body_symbols_check<Body, Carry, Step, topological_order<Body>>::ok;
}

template <class Op, class Sequence, class Initial, class Params>
struct scan_node;
template <class Op, class Sequence, class... Params>
struct scan_node<Op, Sequence, void, type_list<Params...>> {
  using type = node<Op, Sequence, Params...>;
};
template <class Op, class Sequence, class Initial, class... Params>
struct scan_node<Op, Sequence, Initial, type_list<Params...>> {
  using type = node<Op, Sequence, Initial, Params...>;
};

template <class Body, class Carry, class Step, class Initial, bool TimeMajor = false, class Sequence, class... Given>
constexpr auto make_scan(const Sequence& sequence, const Given&... initial) {
  using op = scan_op<Body, Carry, Step, !std::is_void_v<Initial>, false, TimeMajor>;
  using params = parameter_symbols_t<Body>;
  return [&]<class... Params>(type_list<Params...>) {
    return typename scan_node<op, Sequence, Initial, params>::type{sequence, initial..., Params{}...};
  }(params{});
}

}  // namespace detail

// Every carry of the recurrence carry' = body(carry, step) along the
// sequence [N, T, F], from a zero carry: [N, T, S].
template <expression Body, symbolic Carry, symbolic Step, expression Sequence>
constexpr auto scan(const Body&, const Carry&, const Step&, const Sequence& sequence) {
  if constexpr (detail::check_scan<Body, Carry, Step, Sequence>())
    return detail::make_scan<Body, Carry, Step, void>(sequence);
}

// The same from a given carry [N, S] before the first step.
template <expression Body, symbolic Carry, symbolic Step, expression Sequence, expression Initial>
constexpr auto scan(const Body&, const Carry&, const Step&, const Sequence& sequence, const Initial& initial) {
  if constexpr (detail::check_scan<Body, Carry, Step, Sequence>()) {
    if constexpr (!std::is_same_v<shape_of<Initial>, typename Carry::shape_type>)
      return detail::scan_initial_carry_must_have_the_carry_shape<shape_of<Initial>,
                                                                  typename Carry::shape_type>::ok;
    else
      return detail::make_scan<Body, Carry, Step, Initial>(sequence, initial);
  }
}

// The same over a time-major sequence [T, N, F], from a zero carry: every
// carry, [T, N, S]. Step t's rows then lie together in memory (t's slice of
// the sequence, of the result and of their gradients is one block), which
// the recurrent layers of a batch use (nn/detail/recurrent.hpp).
template <expression Body, symbolic Carry, symbolic Step, expression Sequence>
constexpr auto scan_time_major(const Body&, const Carry&, const Step&, const Sequence& sequence) {
  if constexpr (detail::check_scan<Body, Carry, Step, Sequence, true>())
    return detail::make_scan<Body, Carry, Step, void, true>(sequence);
}

}  // namespace tapeless
