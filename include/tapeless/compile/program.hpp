#pragma once
// tl::compile: from expressions to a program, a type whose kernels, their
// order and every buffer are fixed while the user's code compiles.
//
//   auto program = tl::compile(loss);          // loss: rank 0, reads params
//   auto params = tl::parameters_of(loss);
//   float l = program.step(params, X = xbatch, Y = ybatch);  // forward + backward:
//                                              // fills params.grad<...>() for every param
//   float v = program(params, X = xbatch, Y = ybatch);       // forward only
//
//   auto predict = tl::compile(logits);        // not a loss: forward only
//   const auto& z = predict(params, X = xbatch);   // tl::tensor, the program's own
//
// Stepping allocates nothing, throws nothing and calls nothing virtual. The
// program's buffers live in one arena of `arena_bytes` bytes, inside the
// program (tl::compile<tl::inline_storage>) or allocated once when it is made
// (tl::heap_storage); the default keeps up to 64 KiB inline.

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>

#include <tapeless/compile/kernels.hpp>
#include <tapeless/compile/parameters.hpp>
#include <tapeless/compile/plan.hpp>
#include <tapeless/core/tensor.hpp>
#include <tapeless/diff/d.hpp>
#include <tapeless/diff/rules/tensor.hpp>
#include <tapeless/diff/simplify.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/label.hpp>
#include <tapeless/simd/detail/xsimd.hpp>

namespace tapeless {

namespace detail {

// The type at position I of a list, by overload resolution on indexed bases
// (no recursion over the list).
template <std::size_t I, class T>
struct indexed_type {
  using type = T;
};
template <class Seq, class... Ts>
struct indexed_types;
template <std::size_t... Is, class... Ts>
struct indexed_types<std::index_sequence<Is...>, Ts...> : indexed_type<Is, Ts>... {};
template <std::size_t I, class T>
indexed_type<I, T> pick(const indexed_type<I, T>&);
template <std::size_t I, class List>
struct type_at;
template <std::size_t I, class... Ts>
struct type_at<I, type_list<Ts...>> {
  using type = typename decltype(pick<I>(indexed_types<std::index_sequence_for<Ts...>, Ts...>{}))::type;
};

template <class N>
inline constexpr bool is_input_symbol = false;
template <fixed_string Name, class T, class Shape, symbol_kind Kind>
inline constexpr bool is_input_symbol<symbol<Name, T, Shape, Kind>> = Kind != symbol_kind::parameter;

// The element type a program computes in: double if any floating symbol is
// double, else float.
template <class List>
struct compute_type;
template <class... Ns>
struct compute_type<type_list<Ns...>> {
  template <class N>
  static constexpr bool is_double = [] {
    if constexpr (is_symbol<N>)
      return std::is_same_v<typename N::element_type, double>;
    else
      return false;
  }();
  using type = std::conditional_t<(is_double<Ns> || ...), double, float>;
};

// A binding's value as a pointer to its first element.
template <class V>
constexpr const auto* binding_data(const V& v) {
  if constexpr (std::is_arithmetic_v<V>)
    return &v;
  else
    return v.data();
}

template <class V>
struct binding_element {
  using type = std::remove_cv_t<std::remove_pointer_t<decltype(binding_data(std::declval<const V&>()))>>;
};

template <class V>
inline constexpr std::size_t binding_extent = [] {
  if constexpr (std::is_arithmetic_v<V>)
    return std::size_t{1};
  else if constexpr (any_tensor<V>)
    return V::size();
  else if constexpr (requires { V::extent; })
    return V::extent;
  else
    return std::dynamic_extent;
}();

template <fixed_string Name, class... Bindings>
constexpr std::size_t input_binding_count() {
  return (std::size_t{0} + ... + (Bindings::name == Name ? 1 : 0));
}
template <fixed_string Name, class... Bindings>
constexpr std::size_t input_binding_index() {
  constexpr bool hits[] = {(Bindings::name == Name)..., false};
  std::size_t i = 0;
  while (i < sizeof...(Bindings) && !hits[i]) ++i;
  return i;
}

template <fixed_string Name>
struct no_binding_for_input {
  static_assert(always_false_value<Name>,
                "tapeless: the program reads an input that is not bound; pass it as Name = value "
                "(the input is named in no_binding_for_input<...> above)");
  static constexpr bool ok = false;
};
template <fixed_string Name>
struct input_bound_twice {
  static_assert(always_false_value<Name>,
                "tapeless: an input is bound more than once (named in input_bound_twice<...> above)");
  static constexpr bool ok = false;
};
template <class Symbol, class Value>
struct binding_does_not_fit_input {
  static_assert(always_false<Symbol, Value>,
                "tapeless: the value bound to an input must be a tl::tensor or std::span of the "
                "input's element type and size (a scalar for a rank-0 input); see the input "
                "and the value's type above");
  static constexpr bool ok = false;
};
template <class B>
struct not_a_binding_of_this_program {
  static_assert(always_false<B>,
                "tapeless: arguments after the parameters must be bindings, Name = value");
  static constexpr bool ok = false;
};

template <class Symbol, class... Bindings>
constexpr bool check_input() {
  constexpr std::size_t count = input_binding_count<Symbol::name, Bindings...>();
  if constexpr (count == 0)
    return no_binding_for_input<Symbol::name>::ok;
  else if constexpr (count > 1)
    return input_bound_twice<Symbol::name>::ok;
  else {
    using B = std::tuple_element_t<input_binding_index<Symbol::name, Bindings...>(), std::tuple<Bindings...>>;
    using V = typename B::value_type;
    using E = typename binding_element<V>::type;
    using Want = std::conditional_t<std::is_same_v<typename Symbol::element_type, deduced_element>, E,
                                    typename Symbol::element_type>;
    constexpr std::size_t extent = binding_extent<V>;
    if constexpr (std::is_same_v<E, Want> &&
                  (extent == Symbol::shape_type::size || extent == std::dynamic_extent))
      return true;
    else
      return binding_does_not_fit_input<Symbol, V>::ok;
  }
}

template <class Nodes, class... Bindings>
struct check_program_bindings;
template <class... Nodes, class... Bindings>
struct check_program_bindings<type_list<Nodes...>, Bindings...> {
  static constexpr bool all_bindings = ([] {
    if constexpr (is_binding<Bindings>)
      return true;
    else
      return not_a_binding_of_this_program<Bindings>::ok;
  }() && ...);
  static constexpr bool value = all_bindings && ([] {
    if constexpr (is_input_symbol<Nodes>)
      return check_input<Nodes, Bindings...>();
    else
      return true;
  }() && ...);
};

// The kernels of one plan over the node list Order, and how they find their
// operands. Outputs: node 0's destination is the program's result; output i
// > 0 is the gradient of the i-th of Params.
template <class Order, class Params, class T, class Arch, class Owner>
struct schedule {
  using nodes = Order;
  using value_type = T;
  using arch = Arch;
  static constexpr std::size_t node_count = Order::size;

  template <class N>
  static constexpr std::size_t index = index_of_v<N, Order>;

  static constexpr std::array<node_facts, node_count> facts =
      []<class... Ns>(type_list<Ns...>) {
        return std::array<node_facts, node_count>{facts_of<Ns, Order, T>()...};
      }(Order{});
  static constexpr program_plan<node_count> plan = make_plan(facts);

  template <class N>
  static constexpr bool is_transpose_view = [] {
    if constexpr (contains<N, Order>)
      return plan.transpose_view[index<N>];
    else
      return false;
  }();

  template <class N>
  static T constant_value(const Owner& self) noexcept {
    if constexpr (is_exact<N>)
      return N::value.template as<T>();
    else
      return static_cast<T>(self.constants[N::slot]);
  }

  // Where root N writes.
  template <class N, class Ctx>
  static T* destination(const Ctx& c) noexcept {
    constexpr std::size_t i = index<N>;
    if constexpr (plan.external[i]) {
      return destination<typename type_at<plan.redirect[i], Order>::type>(c);
    } else if constexpr (kind_of<N>() == node_kind::output) {
      constexpr std::size_t out = N::operation::index;
      if constexpr (out == 0)
        return c.self.result_.get().data();
      else
        return c.params.template grad<type_at<out - 1, Params>::type::name>().data();
    } else {
      return reinterpret_cast<T*>(c.arena + plan.offset[i]);
    }
  }

  template <class N, class Ctx>
  static T* scratch(const Ctx& c) noexcept {
    return reinterpret_cast<T*>(c.arena + plan.scratch_offset[index<N>]);
  }

  // Where N's values are read from.
  template <class N, class Ctx>
  static const auto* pointer(const Ctx& c) noexcept {
    constexpr node_kind kind = kind_of<N>();
    if constexpr (kind == node_kind::parameter) {
      return c.params.template get<N::name>().data();
    } else if constexpr (kind == node_kind::input) {
      return binding_data(std::get<binding_index_in<N, Ctx>()>(c.bindings).value);
    } else if constexpr (kind == node_kind::reshape || (kind == node_kind::transpose && plan.transpose_view[index<N>])) {
      using A = typename front<typename operands_of<N>::type>::type;
      static_assert(kind_of<A>() != node_kind::constant,
                    "tapeless::compile: reshape or transpose of a constant is not supported");
      return pointer<A>(c);
    } else {
      return static_cast<const T*>(destination<N>(c));
    }
  }

  template <class N, class Ctx>
  static constexpr std::size_t binding_index_in() {
    return []<class... B>(std::type_identity<std::tuple<const B&...>>) {
      return input_binding_index<N::name, B...>();
    }(std::type_identity<std::remove_cvref_t<decltype(std::declval<const Ctx&>().bindings)>>{});
  }

  // A matmul operand: the buffer of N, or of N's operand when N is a transpose view.
  template <class N, class Ctx>
  static const T* matmul_operand(const Ctx& c) noexcept {
    static_assert(kind_of<N>() != node_kind::constant,
                  "tapeless::compile: a matmul operand simplified to a constant");
    return pointer<N>(c);
  }

  template <std::size_t Param, class Ctx>
  static auto& parameter_value(const Ctx& c) noexcept {
    return c.params.template get<type_at<Param, Params>::type::name>();
  }

  // The parameter whose gradient root I writes, or -1.
  template <int I>
  static constexpr int gradient_of = [] {
    if constexpr (plan.external[I]) {
      using O = typename type_at<plan.redirect[I], Order>::type;
      return static_cast<int>(O::operation::index) - 1;
    } else {
      return -1;
    }
  }();

  // May parameter Param's update run in the epilogue of the GEMM at I? Only
  // when no kernel reads the parameter's value at or after that GEMM.
  template <int I, int Param>
  static constexpr bool update_fusable = [] {
    if constexpr (Param < 0 || facts[I].kind != node_kind::matmul) {
      return false;
    } else {
      using symbol_type = typename type_at<static_cast<std::size_t>(Param), Params>::type;
      if constexpr (!contains<symbol_type, Order>)
        return true;
      else
        return plan.last_read[index<symbol_type>] < plan.position[I];
    }
  }();

  // Is parameter Param updated inside the backward pass under Update?
  template <std::size_t Param, class Update>
  static constexpr bool fuses_update = [] {
    bool found = false;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      ((found = found || (gradient_of<plan.schedule[K]> == static_cast<int>(Param) &&
                          update_fusable<plan.schedule[K], static_cast<int>(Param)> &&
                          Update::template fuses<Param>)),
       ...);
    }(std::make_index_sequence<plan.kernel_count>{});
    return found;
  }();

  template <int I, class Ctx>
  static void run_kernel(const Ctx& c) noexcept {
    using N = typename type_at<I, Order>::type;
    constexpr node_kind kind = facts[I].kind;
    constexpr int param = gradient_of<I>;
    if constexpr (param >= 0 && update_fusable<I, param> &&
                  Ctx::update_type::template fuses<static_cast<std::size_t>(param)>)
      run_matmul_update<Ctx, I, N, static_cast<std::size_t>(param)>(c);
    else if constexpr (plan.epilogue_of[I] >= 0)
      run_matmul_epilogue<Ctx, I, N, typename type_at<plan.epilogue_of[I], Order>::type>(c);
    else if constexpr (kind == node_kind::matmul)
      run_matmul<Ctx, I, N>(c);
    else if constexpr (kind == node_kind::reduce)
      run_reduce<Ctx, I, N>(c);
    else if constexpr (kind == node_kind::gather)
      run_gather<Ctx, I, N>(c);
    else if constexpr (kind == node_kind::transpose)
      run_transpose<Ctx, I, N>(c);
    else if constexpr (kind == node_kind::copy)
      run_copy<Ctx, I, N>(c);
    else
      run_elementwise<Ctx, I, N>(c);
  }

  template <class Ctx>
  static void run(const Ctx& c) noexcept {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      (run_kernel<plan.schedule[K]>(c), ...);
    }(std::make_index_sequence<plan.kernel_count>{});
  }
};

template <class Storage, std::size_t Bytes>
struct arena_holder;
template <std::size_t Bytes>
struct arena_holder<inline_storage, Bytes> {
  alignas(64) std::byte bytes[Bytes == 0 ? 1 : Bytes];
  std::byte* get() noexcept { return bytes; }
};
template <std::size_t Bytes>
struct arena_holder<heap_storage, Bytes> {
  struct alignas(64) block {
    std::byte bytes[Bytes == 0 ? 1 : Bytes];
  };
  std::unique_ptr<block> data = std::make_unique<block>();
  arena_holder() = default;
  arena_holder(const arena_holder&) : data(std::make_unique<block>()) {}  // scratch: not copied
  arena_holder& operator=(const arena_holder&) noexcept { return *this; }
  arena_holder(arena_holder&&) noexcept = default;
  arena_holder& operator=(arena_holder&&) noexcept = default;
  std::byte* get() noexcept { return data->bytes; }
};

// The graph as the kernels compute it: a / s, where s broadcasts over a
// tensor a (a scalar, a column), becomes a * (1/s), one division per element
// of s instead of one per element of a (a division costs several
// multiplications, and the compiler may not make this change itself: the
// result can differ in the last bit). Applied to the whole graph at once,
// value and gradients, so that what they share stays shared; the expressions
// themselves keep their divisions.
template <class E>
struct kernel_form {
  using type = E;
};
template <class Op, class... Operands>
struct kernel_form<node<Op, Operands...>> {
  using type = node<Op, typename kernel_form<Operands>::type...>;
};
// (Not for a constant s: its reciprocal would be a kernel of its own.)
template <class A, class B>
  requires(shape_of<B>::size < shape_of<A>::size && !is_slot<B> && !is_exact<B>)
struct kernel_form<node<div_op, A, B>> {
  using type = node<mul_op, typename kernel_form<A>::type,
                    node<div_op, exact_constant<rational{1, 1}>, typename kernel_form<B>::type>>;
};
template <class E>
using kernel_form_t = typename kernel_form<E>::type;

template <class S, class Partials, class Params>
struct output_nodes;
template <class S, class... Partials, class... Params>
struct output_nodes<S, type_list<Partials...>, type_list<Params...>> {
  template <std::size_t... I>
  static auto make(std::index_sequence<I...>)
      -> type_list<node<output_op<0, shape_of<S>>, kernel_form_t<S>>,
                   node<output_op<I + 1, typename Params::shape_type>, kernel_form_t<Partials>>...>;
  using type = decltype(make(std::index_sequence_for<Params...>{}));
};

template <class Params, class S>
struct partials_of;
template <class... Params, class S>
struct partials_of<type_list<Params...>, S> {
  using type = type_list<derivative_t<S, Params>...>;
};

}  // namespace detail

// A compiled program: Structure is the labelled, simplified expression;
// Params the param symbols it differentiates with respect to (none: forward
// only); Table holds its run-time constants.
template <class Structure, class Params, class Table, class Storage, class Arch = xsimd::default_arch>
class program;

template <class Structure, class... Params, class Table, class Storage, class Arch>
class program<Structure, detail::type_list<Params...>, Table, Storage, Arch> {
  using params_list = detail::type_list<Params...>;
  using all_symbols = detail::topological_order<Structure>;

 public:
  using value_type = typename detail::compute_type<all_symbols>::type;
  using output_shape = shape_of<Structure>;
  using result_type = tensor_for<value_type, output_shape>;

 private:
  using forward_outputs =
      detail::type_list<node<output_op<0, output_shape>, detail::kernel_form_t<Structure>>>;
  using training_outputs = typename detail::output_nodes<
      Structure, typename detail::partials_of<params_list, Structure>::type, params_list>::type;

  template <class Outputs>
  using schedule_for = detail::schedule<typename Outputs::template apply<detail::topological_order>,
                                        params_list, value_type, Arch, program>;

 public:
  using forward_schedule = schedule_for<forward_outputs>;
  using training_schedule = schedule_for<training_outputs>;

  static constexpr bool trains = sizeof...(Params) > 0;
  // Kernels one call runs, and the bytes of the arena their buffers share.
  static constexpr std::size_t forward_kernels = forward_schedule::plan.kernel_count;
  static constexpr std::size_t training_kernels = trains ? training_schedule::plan.kernel_count : 0;
  static constexpr std::size_t arena_bytes =
      forward_schedule::plan.arena_bytes > (trains ? training_schedule::plan.arena_bytes : 0)
          ? forward_schedule::plan.arena_bytes
          : training_schedule::plan.arena_bytes;

  constexpr program() = default;
  explicit program(const Table& table) : constants(table) {}

  // Forward only. Returns the loss (rank 0) or the program's output tensor,
  // which stays valid until the next call.
  template <class Store, class... Bindings>
  decltype(auto) operator()(Store& params, const Bindings&... bindings) noexcept {
    run<forward_schedule>(false, params, bindings...);
    if constexpr (output_shape::rank == 0)
      return result_.get()[0];
    else
      return static_cast<const result_type&>(result_.get());
  }

  // Forward and backward: returns the loss and writes every parameter's
  // gradient into the store (overwriting it: gradients do not accumulate).
  template <class Store, class... Bindings>
    requires(output_shape::rank == 0)
  value_type step(Store& params, const Bindings&... bindings) noexcept {
    static_assert(trains, "tapeless: step() needs a program compiled from a loss that reads params");
    run<training_schedule>(true, params, bindings...);
    ++steps_taken;
    return result_.get()[0];
  }

  // Forward and backward with the update of some parameters run inside their
  // weight-gradient GEMMs (see optim/trainer.hpp): their gradients are not
  // stored. Which ones: training_schedule::fuses_update<i, Update>.
  template <class Update, class Store, class... Bindings>
    requires(output_shape::rank == 0)
  value_type step_with_update(Update& update, Store& params, const Bindings&... bindings) noexcept {
    run_with<training_schedule>(true, update, params, bindings...);
    ++steps_taken;
    return result_.get()[0];
  }

  // Restarts dropout's random stream: seed s, step 0.
  void seed(std::uint64_t s) noexcept { random_seed = s, steps_taken = 0; }

  Table constants{};
  std::uint64_t random_seed = 0;
  std::uint64_t steps_taken = 0;  // training steps run: dropout draws a new mask each

 private:
  template <class Schedule, class Store, class... Bindings>
  void run(bool training, Store& params, const Bindings&... bindings) noexcept {
    detail::no_fused_update none;
    run_with<Schedule>(training, none, params, bindings...);
  }
  template <class Schedule, class Update, class Store, class... Bindings>
  void run_with(bool training, Update& update, Store& params, const Bindings&... bindings) noexcept {
    if constexpr (detail::check_program_bindings<typename Schedule::nodes, Bindings...>::value) {
      const std::tuple<const Bindings&...> bound{bindings...};
      using context = detail::run_context<Schedule, program, Store, std::tuple<const Bindings&...>, Update>;
      const context c{*this, training, params, bound, arena_.get(), &update};
      Schedule::run(c);
    }
  }

  // Where the arena and the result live: inline, or allocated once here.
  using resolved_storage = std::conditional_t<
      std::is_same_v<Storage, automatic_storage>,
      std::conditional_t<(arena_bytes + sizeof(result_type) <= automatic_storage::inline_limit_bytes),
                         inline_storage, heap_storage>,
      Storage>;

 public:
  // The program's output (the loss, or the predicted tensor) after a call.
  const result_type& result() const noexcept { return result_.get(); }

 private:
  template <class, class, class, class, class>
  friend struct detail::schedule;
  detail::parameter_holder<resolved_storage, result_type> result_{};
  detail::arena_holder<resolved_storage, arena_bytes> arena_{};
};

namespace detail {

template <class Storage, class E>
auto compile_expression(const E& e) {
  const auto labelled_e = label(e);
  using S = simplified_t<typename decltype(labelled_e)::structure>;
  using symbols = typename collect_parameters<type_list<>, topological_order<S>>::type;
  using params = std::conditional_t<shape_of<S>::rank == 0, symbols, type_list<>>;
  return program<S, params, decltype(labelled_e.constants), Storage>{labelled_e.constants};
}

}  // namespace detail

// The program computing e: with the gradient of every param when e is a
// scalar loss (step), forward only in any case (operator()).
template <class Storage = automatic_storage, expression E>
auto compile(const E& e) {
  return detail::compile_expression<Storage>(e);
}

}  // namespace tapeless
