#pragma once
// tl::stream(model): a recurrent model run a few samples at a time, as an
// audio callback or a control loop runs it, with every recurrent layer's
// state kept between calls.
//
//   constexpr auto x = tl::input<"x", float, 1, 1, 1>;        // one sample: N = 1, T = 1
//   constexpr auto y = tl::nn::gru<"gru", 8>(x);               // [1, 1, 8]
//   auto params = ...;                                          // trained on whole sequences
//   auto streaming = tl::stream(y);
//   const auto& out = streaming(params, x = sample);           // the next step of the sequence
//   streaming.reset();                                          // back to the zero state
//   streaming.pack_weights(params);   // optional: W_hh^T copies, for the lowest latency
//
// Every scan of the model that starts from a zero carry (every layer of
// tl::nn) starts instead from a state the streaming program holds, and
// leaves its last carry there; a call over T samples goes on where the last
// call stopped, so T = 1 runs sample by sample and T = 64 a block at a time,
// with the same outputs as the whole sequence at once. Scans given an
// initial carry start from it at every call.
//
// A call runs the program's forward pass (compile/program.hpp): it allocates
// nothing, takes no lock and throws nothing; the states are a few tensors
// inside the object. Two streaming programs share nothing.

#include <algorithm>
#include <cstddef>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>

#include <tapeless/compile/program.hpp>
#include <tapeless/core/fixed_string.hpp>
#include <tapeless/core/tensor.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/element_type.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/label.hpp>
#include <tapeless/expr/scan.hpp>
#include <tapeless/expr/symbol.hpp>
#include <tapeless/simd/narrower_arch.hpp>

namespace tapeless {

namespace detail {

// "tapeless.state.K": the input that holds the state of the K-th node.
template <std::size_t K>
constexpr auto state_name() {
  constexpr std::size_t digits = [] {
    std::size_t d = 1;
    for (std::size_t k = K; k >= 10; k /= 10) ++d;
    return d;
  }();
  fixed_string<digits + 1> number;
  std::size_t k = K;
  for (std::size_t i = digits; i-- > 0; k /= 10) number.chars[i] = static_cast<char>('0' + k % 10);
  return fixed_string("tapeless.state.") + number;
}

// A scan that restarts from zero at every call.
template <class E>
inline constexpr bool restarts_from_zero = false;
template <class Body, class Carry, class Step, bool TimeMajor, class... Operands>
inline constexpr bool restarts_from_zero<node<scan_op<Body, Carry, Step, false, false, TimeMajor>, Operands...>> = true;

// The structure E of the model, with its scans that restart from zero made
// to keep their state in an input of their own; Order numbers the scans.
template <class Order, class T, class E>
struct kept_state_form {
  using type = E;
};
template <class Order, class T, class Op, class... Operands>
struct kept_state_form<Order, T, node<Op, Operands...>> {
  using type = node<Op, typename kept_state_form<Order, T, Operands>::type...>;
};
template <class Order, class T, class Body, class Carry, class Step, bool TimeMajor, class X, class... Params>
struct kept_state_form<Order, T, node<scan_op<Body, Carry, Step, false, false, TimeMajor>, X, Params...>> {
  using state = symbol<state_name<index_of_v<node<scan_op<Body, Carry, Step, false, false, TimeMajor>, X, Params...>,
                                             Order>>(),
                       T, typename Carry::shape_type, symbol_kind::input>;
  using type = node<scan_op<Body, Carry, Step, true, true, TimeMajor>, typename kept_state_form<Order, T, X>::type,
                    state, Params...>;
};

// The state inputs of the scans among Order, in its order.
template <class Order, class T, class Nodes = Order>
struct state_symbols;
template <class Order, class T, class... Nodes>
struct state_symbols<Order, T, type_list<Nodes...>> {
  template <class N>
  static auto one() {
    if constexpr (restarts_from_zero<N>)
      return gathered<typename kept_state_form<Order, T, N>::state>{};
    else
      return gathered<>{};
  }
  using type = decltype((gathered<>{} | ... | one<Nodes>()));
};

// The widest recurrent state among the scans of Order (0 without a scan).
// constexpr without inline: internal linkage, so g++ does not mangle a name
// per node type (core/type_list.hpp).
template <class N>
constexpr std::size_t scan_state_width = 0;
template <class Body, class Carry, class Step, bool InitialCarry, bool KeepsState, bool TimeMajor, class... Operands>
constexpr std::size_t scan_state_width<node<scan_op<Body, Carry, Step, InitialCarry, KeepsState, TimeMajor>, Operands...>> =
    scan_op<Body, Carry, Step, InitialCarry, KeepsState, TimeMajor>::state;

template <class Order>
struct widest_scan_state;
template <class... Nodes>
struct widest_scan_state<type_list<Nodes...>> {
  static constexpr std::size_t value = std::max({std::size_t{0}, scan_state_width<Nodes>...});
};

// The instruction set a streaming program runs on when none is named: the
// build's widest, unless every recurrent step runs on a narrower one (a
// scan's body takes simd::fitting_arch of its state: a GRU of hidden size 8
// on AVX-512 steps on AVX2 batches), and then that one for the whole
// program. The step is the whole call at one sample, and its few 512-bit
// instructions (the input's projection, the output) among the body's 256-bit
// ones cost an Intel AVX-512 core more than they compute: GRU-8 streamed
// 97 ns a sample with the step on AVX2 and the rest on AVX-512, 62 ns with
// all of it on AVX2, the SIMD loop by hand 60 ns (bench/results/streaming.md).
template <class Order, class T, class Arch>
using streaming_arch =
    typename std::conditional_t<widest_scan_state<Order>::value == 0, std::type_identity<Arch>,
                                simd::detail::fitting_arch<T, Arch, widest_scan_state<Order>::value>>::type;

}  // namespace detail

// A forward program whose scans keep their state between calls (tl::stream).
template <class Program, class States>
class streaming_program;

template <class Program, class... States>
class streaming_program<Program, detail::gathered<States...>> {
 public:
  using program_type = Program;
  using value_type = typename Program::value_type;
  using result_type = typename Program::result_type;
  // Recurrent layers (scans) whose state is kept.
  static constexpr std::size_t state_count = sizeof...(States);

  streaming_program() = default;
  explicit streaming_program(const Program& program) : program_(program) {}

  // The next samples: the model on the inputs bound, each recurrent layer
  // starting from where the last call left it. Returns what the program
  // does (its output tensor, valid until the next call).
  template <class Store, class... Bindings>
  decltype(auto) operator()(Store& params, const Bindings&... bindings) noexcept {
    return [&]<std::size_t... I>(std::index_sequence<I...>) -> decltype(auto) {
      // The spans live until the end of this full expression, the call.
      return program_(params, bindings...,
                      (States{} = std::span<value_type, States::shape_type::size>(
                           std::get<I>(states_).data(), States::shape_type::size))...);
    }(std::index_sequence_for<States...>{});
  }

  // Opt-in for per-sample latency, as program.pack_weights (compile/program.hpp):
  // from now on each call reads transposed copies of the small weights (a
  // recurrent layer's W_hh^T, its gates then accumulated by broadcast-and-FMA,
  // with no lane sums), made here and made again by the first call after any
  // write the store sees (params.version()). A write through a reference or
  // pointer kept from before a call must be announced with
  // params.mark_changed(); builds with TAPELESS_CHECK_PACKED_WEIGHTS (the
  // default without NDEBUG) catch one that was not (NaN, last_error()).
  template <class Store>
  void pack_weights(const Store& params) noexcept {
    program_.pack_weights(params);
  }
  void unpack_weights() noexcept { program_.unpack_weights(); }
  bool packs_weights() const noexcept { return program_.packs_weights(); }
  const run_error& last_error() const noexcept { return program_.last_error(); }

  // Every state back to zero, as before the first call.
  void reset() noexcept {
    std::apply([](auto&... state) { (state.fill(value_type(0)), ...); }, states_);
  }

  // The K-th recurrent layer's state (in graph order), to read or to set.
  template <std::size_t K>
  auto& state() noexcept {
    return std::get<K>(states_);
  }

  Program& program() noexcept { return program_; }

 private:
  Program program_{};
  std::tuple<tensor_for<value_type, typename States::shape_type>...> states_{};
};

namespace detail {

// Arch void: streaming_arch's choice.
template <storage_policy Storage, class Arch, expression E>
auto make_stream(const E& e) {
  const auto labelled_e = tapeless::label(e);
  using S = typename decltype(labelled_e)::structure;
  using order = topological_order<S>;
  using T = floating_element_t<S>;
  using arch = std::conditional_t<std::is_void_v<Arch>, streaming_arch<order, T, xsimd::default_arch>, Arch>;
  using kept = simplified_t<typename kept_state_form<order, T, S>::type>;
  using program_type = program<kept, type_list<>, decltype(labelled_e.constants), Storage, arch>;
  using states = typename state_symbols<order, T>::type;
  return streaming_program<program_type, states>{program_type{labelled_e.constants}};
}

}  // namespace detail

// The streaming form of model e (a forward program: e is evaluated, not
// differentiated), its states zero, on the instruction set that suits its
// recurrent layers (detail::streaming_arch)...
template <storage_policy Storage = automatic_storage, expression E>
auto stream(const E& e) {
  return detail::make_stream<Storage, void>(e);
}
// ... or on the one named.
template <storage_policy Storage, simd_architecture Arch, expression E>
auto stream(const E& e) {
  return detail::make_stream<Storage, Arch>(e);
}

}  // namespace tapeless
