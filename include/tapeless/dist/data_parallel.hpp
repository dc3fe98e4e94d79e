#pragma once
// Data-parallel training over MPI: every rank holds the whole model, steps on
// its shard of each batch, and the gradients are averaged over the ranks
// before the update, so N ranks with batches of B step as one process with
// batches of N * B (up to the order of float summation).
//
//   tl::dist::environment mpi(argc, argv);
//   tl::dist::communicator world;
//   auto program = tl::compile(loss);                    // batch B: one rank's shard
//   auto params = tl::parameters_of(loss);
//   tl::init::he_uniform(params, 1);
//   auto opt = tl::optim::optimizer(params, tl::optim::adam{.lr = 1e-3f});
//   tl::dist::data_parallel ddp(world, program, opt, params);  // rank 0's parameters everywhere
//   auto train = tl::dist::training_batches<B>(world, data, /*seed*/ 42);  // this rank's shard
//   for (const auto& b : train.epoch(e))
//     float loss = ddp.step(params, X = b.features, Y = b.targets);  // the global batch's mean loss
//
// A trainer made with a rule (tl::compile(loss, rule)) is given as
// data_parallel(world, trainer, params): its program and optimizer step
// apart, since the update must wait for the averaged gradient (the update
// that trainer fuses into the backward GEMMs is not used).
//
// The constructor, a collective call on every rank:
//   - checks once that every rank holds the same model (the parameters'
//     names, shapes and element types, and the optimizer's step count), and
//     throws tl::dist::error on every rank if not;
//   - broadcasts rank 0's parameters, buffers and optimizer state;
//   - allocates the one buffer every step reduces.
// step(), also collective: the program's step on this rank's data, then one
// MPI_Allreduce (summing, in place) over a single buffer that holds every
// trainable gradient, every floating-point buffer (batch norm's running
// statistics: averaged, so that the ranks keep one copy), the loss and a
// failure flag; the averages are written back and the optimizer steps on
// every rank with the same gradients from the same state, so parameters and
// optimizer state stay equal bit for bit (Open MPI's sum gives every rank the
// same bits; parameters_agree checks it). It allocates nothing and throws nothing.
//
// A rank whose data fail the program's checks (a class id out of range)
// makes every rank's step return NaN: no parameter or optimizer state
// changes on any rank, and no rank waits for ever. What is equal and what is
// not: a model whose loss is a mean over independent rows (an MLP, a CNN
// without batch norm) gives the single-process result; batch norm
// normalises over each rank's shard (as torch's DistributedDataParallel
// without SyncBatchNorm), and dropout draws each rank's masks from its own
// program's stream (the same seed on every rank unless program.seed(rank)).

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <tapeless/core/parameter_store.hpp>
#include <tapeless/dist/communicator.hpp>
#include <tapeless/optim/trainer.hpp>

namespace tapeless::dist {

namespace detail {

// The first trainable entry (the first entry if none is): a free function,
// since clang 14 does not evaluate a class's own static members while the
// class is being defined.
template <class... Entries>
constexpr std::size_t first_trainable() {
  constexpr bool trainable[] = {Entries::trainable...};
  for (std::size_t i = 0; i < sizeof...(Entries); ++i)
    if (trainable[i]) return i;
  return 0;
}

template <class Store>
struct store_layout;
template <class Storage, class... Entries>
struct store_layout<parameter_store<Storage, Entries...>> {
  static_assert(sizeof...(Entries) > 0, "tl::dist::data_parallel: the parameter store is empty");
  static constexpr std::size_t count = sizeof...(Entries);
  static constexpr bool trainable[count] = {Entries::trainable...};
  // The element type the ranks reduce in: the trainable parameters'.
  using gradient_type =
      std::tuple_element_t<first_trainable<Entries...>(), std::tuple<typename Entries::element_type...>>;
  static_assert(((!Entries::trainable || std::is_same_v<typename Entries::element_type, gradient_type>) && ...),
                "tl::dist::data_parallel: every trainable parameter must have one element type (all float or all "
                "double), as the gradients are reduced in one buffer");
  // Reduced with the gradients: the buffers of the same element type.
  static constexpr bool reduced[count] = {(Entries::trainable ||
                                      std::is_same_v<typename Entries::element_type, gradient_type>)...};
  static constexpr std::size_t sizes[count] = {Entries::shape_type::size...};
  static constexpr std::size_t gradient_count = ((Entries::trainable ? Entries::shape_type::size : 0) + ...);
  static constexpr std::size_t reduced_count =
      ((Entries::trainable || std::is_same_v<typename Entries::element_type, gradient_type>
            ? Entries::shape_type::size
            : 0) +
       ...);
  static constexpr std::size_t offset(std::size_t i) {
    std::size_t o = 0;
    for (std::size_t k = 0; k < i; ++k) o += reduced[k] ? sizes[k] : 0;
    return o;
  }
  // FNV-1a over every entry's name, shape, element size and kind: two ranks
  // built from different models (or the same sizes under other names) differ.
  static constexpr std::uint64_t fingerprint = [] {
    std::uint64_t h = 14695981039346656037ULL;
    auto mix = [&](std::uint64_t byte) { h = (h ^ byte) * 1099511628211ULL; };
    auto add = [&](std::string_view name, std::size_t size, std::size_t element, bool is_trainable) {
      for (const char c : name) mix(static_cast<unsigned char>(c));
      for (int shift = 0; shift < 64; shift += 8) mix((size >> shift) & 0xff);
      mix(element), mix(is_trainable);
    };
    (add(Entries::name.view(), Entries::shape_type::size, sizeof(typename Entries::element_type), Entries::trainable),
     ...);
    return h;
  }();
};

}  // namespace detail

template <class Program, class Optimizer, class Store>
class data_parallel {
  using layout = detail::store_layout<Store>;

 public:
  using value_type = typename Program::value_type;
  using gradient_type = typename layout::gradient_type;
  // Scalars reduced per step: gradients, same-typed buffers, the loss and the failure flag.
  static constexpr std::size_t reduced_count = layout::reduced_count + 2;
  static constexpr std::size_t reduced_bytes = reduced_count * sizeof(gradient_type);

  // Collective: see the top of this file. The program and optimizer must
  // outlive this object (the communicator is copied: a handle).
  data_parallel(const communicator& comm, Program& program, Optimizer& optimizer, Store& params)
      : comm_(comm), program_(program), optimizer_(optimizer), inverse_size_(gradient_type(1) / comm.size()) {
    static_assert(Program::trains, "tl::dist::data_parallel: the program must be a training step (a loss over params)");
    check_same_model();
    broadcast_from_root(params, std::make_index_sequence<layout::count>{});
    reduced_.assign(reduced_count, gradient_type(0));
  }
  // From a trainer (tl::compile(loss, rule)): its program and its optimizer.
  template <class P, class O>
  data_parallel(const communicator& comm, optim::trainer<P, O>& trainer, Store& params)
      : data_parallel(comm, trainer.program(), trainer.optimizer(), params) {}

  data_parallel(const data_parallel&) = delete;
  data_parallel& operator=(const data_parallel&) = delete;

  // Collective: one step of every rank on its shard. Returns the mean loss
  // over the global batch (the same on every rank); NaN, with nothing
  // changed, when some rank's data failed the program's checks (this
  // rank's reason, if it was one of them: program.last_error()).
  template <class... Bindings>
  value_type step(Store& params, const Bindings&... bindings) noexcept {
    const value_type loss = program_.step(params, bindings...);
    const bool failed = static_cast<bool>(program_.last_error());
    if (comm_.size() == 1) {  // nothing to average: no copies (the step of one process)
      if (failed) return loss;  // NaN
      optimizer_.step(params);
      return loss;
    }
    gradient_type* buffer = reduced_.data();
    pack(params, buffer, std::make_index_sequence<layout::count>{});
    buffer[reduced_count - 2] = failed ? gradient_type(0) : static_cast<gradient_type>(loss) * inverse_size_;
    buffer[reduced_count - 1] = failed ? gradient_type(1) : gradient_type(0);
    MPI_Allreduce(MPI_IN_PLACE, buffer, static_cast<int>(reduced_count), detail::mpi_type<gradient_type>(), MPI_SUM,
                  comm_.native());
    const bool any_failed = buffer[reduced_count - 1] != gradient_type(0);
    // Buffers (running statistics) are written back even then: the ranks
    // that stepped changed theirs, and the ranks must keep one copy.
    unpack(params, buffer, !any_failed, std::make_index_sequence<layout::count>{});
    if (any_failed) return std::numeric_limits<value_type>::quiet_NaN();
    optimizer_.step(params);
    return static_cast<value_type>(buffer[reduced_count - 2]);
  }

  const communicator& comm() const noexcept { return comm_; }
  Program& program() noexcept { return program_; }
  Optimizer& optimizer() noexcept { return optimizer_; }

 private:
  void check_same_model() const {
    // One MAX reduction finds both extremes: max(~x) is ~min(x).
    const std::uint64_t mine[] = {layout::fingerprint, layout::reduced_count, optimizer_.steps()};
    constexpr int n = 3;
    std::uint64_t both[2 * n], extremes[2 * n];
    for (int i = 0; i < n; ++i) both[i] = mine[i], both[n + i] = ~mine[i];
    MPI_Allreduce(both, extremes, 2 * n, MPI_UINT64_T, MPI_MAX, comm_.native());
    const bool same_model = extremes[0] == ~extremes[n] && extremes[1] == ~extremes[n + 1];
    const bool same_steps = extremes[2] == ~extremes[n + 2];
    const std::string rank = "rank " + std::to_string(comm_.rank()) + " of " + std::to_string(comm_.size());
    if (!same_model)
      throw error("tl::dist::data_parallel: the ranks hold different models (" + rank + " has " +
                  std::to_string(Store::count) + " tensors, " + std::to_string(layout::reduced_count) +
                  " values to reduce; the ranks range from " + std::to_string(~extremes[n + 1]) + " to " +
                  std::to_string(extremes[1]) +
                  " values, or differ in names or shapes): every rank must build the same model");
    if (!same_steps)
      throw error("tl::dist::data_parallel: the ranks' optimizers have taken different numbers of steps (" + rank +
                  " has " + std::to_string(mine[2]) + "; they range from " + std::to_string(~extremes[n + 2]) +
                  " to " + std::to_string(extremes[2]) + "): load the same checkpoint on every rank, or none");
    if (layout::reduced_count + 2 > static_cast<std::size_t>(INT_MAX))
      throw error("tl::dist::data_parallel: the model has more values than one MPI_Allreduce can take (" +
                  std::to_string(layout::reduced_count) + ")");
  }

  template <std::size_t... I>
  void broadcast_from_root(Store& params, std::index_sequence<I...>) {
    (broadcast_bytes(params.template value_at<I>()), ...);
    (broadcast_state<I>(), ...);
  }
  template <std::size_t I>
  void broadcast_state() {
    if constexpr (requires { optimizer_.template state_at<I>(); })
      for (auto& tensor : optimizer_.template state_at<I>()) broadcast_bytes(tensor);
  }
  template <class Tensor>
  void broadcast_bytes(Tensor& tensor) {
    static_assert(std::is_trivially_copyable_v<typename Tensor::value_type>);
    MPI_Bcast(tensor.data(), static_cast<int>(tensor.size() * sizeof(typename Tensor::value_type)), MPI_BYTE, 0,
              comm_.native());
  }

  // Reads gradients and buffers through const references: reading is no write
  // the store must count.
  template <std::size_t... I>
  static void pack(const Store& params, gradient_type* buffer, std::index_sequence<I...>) noexcept {
    (
        [&] {
          if constexpr (layout::trainable[I])
            std::memcpy(buffer + layout::offset(I), params.template grad_at<I>().data(),
                        layout::sizes[I] * sizeof(gradient_type));
          else if constexpr (layout::reduced[I])
            std::memcpy(buffer + layout::offset(I), params.template value_at<I>().data(),
                        layout::sizes[I] * sizeof(gradient_type));
        }(),
        ...);
  }
  template <std::size_t... I>
  void unpack(Store& params, const gradient_type* buffer, bool gradients, std::index_sequence<I...>) const noexcept {
    const gradient_type scale = inverse_size_;
    auto average = [scale](gradient_type* to, const gradient_type* from, std::size_t n) noexcept {
      for (std::size_t i = 0; i < n; ++i) to[i] = from[i] * scale;
    };
    (
        [&] {
          if constexpr (layout::trainable[I]) {
            if (gradients) average(params.template grad_at<I>().data(), buffer + layout::offset(I), layout::sizes[I]);
          } else if constexpr (layout::reduced[I]) {
            average(params.template value_at<I>().data(), buffer + layout::offset(I), layout::sizes[I]);
          }
        }(),
        ...);
  }

  communicator comm_;
  Program& program_;
  Optimizer& optimizer_;
  gradient_type inverse_size_;
  std::vector<gradient_type> reduced_;  // made once, in the constructor
};

template <class P, class O, class Store>
data_parallel(const communicator&, optim::trainer<P, O>&, Store&) -> data_parallel<P, O, Store>;

// Collective: do all ranks hold the same parameter and buffer values, bit
// for bit? (A check for tests and for after a resumed run; not needed per step.)
template <class Store>
bool parameters_agree(const communicator& comm, const Store& params) {
  std::uint64_t h = 14695981039346656037ULL;
  params.visit([&](std::string_view, const auto& value, const auto&) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(value.data());
    for (std::size_t i = 0; i < value.size() * sizeof(*value.data()); ++i) h = (h ^ bytes[i]) * 1099511628211ULL;
  });
  std::uint64_t both[2] = {h, ~h}, extremes[2];
  MPI_Allreduce(both, extremes, 2, MPI_UINT64_T, MPI_MAX, comm.native());
  return extremes[0] == ~extremes[1];
}

}  // namespace tapeless::dist
