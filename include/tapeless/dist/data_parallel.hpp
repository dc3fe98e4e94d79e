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
//   - finds where the store keeps its gradients (or, for a store with
//     buffers, allocates the one buffer every step reduces).
// step(), also collective: the program's step on this rank's data, then
//   - for a store of trainable parameters alone (an MLP, a CNN without batch
//     norm): an MPI_Allreduce of the loss and a failure flag, then the
//     gradients averaged where the store keeps them, one block of memory (no
//     copy into a buffer and back): each rank sums and scales its 1/N of the
//     block in a ring of N - 1 MPI_Sendrecv, then MPI_Allgatherv gives every
//     rank every part (the bytes of a ring allreduce; measured faster than
//     Open MPI's MPI_Allreduce and scaling pass), and the optimizer steps on
//     every rank;
//   - for a store with buffers: one MPI_Allreduce of a buffer that holds every
//     trainable gradient, every floating-point buffer (batch norm's running
//     statistics: averaged, so that the ranks keep one copy), the loss and
//     the failure flag; the averages are written back and the optimizer steps.
// Every rank steps with the same gradients from the same state, so parameters
// and optimizer state stay equal bit for bit (each part of the block is summed
// on one rank and copied to the others; through the buffer, Open MPI's sum
// gives every rank the same bits; parameters_agree checks it). It allocates
// nothing and throws nothing.
//
// With data_parallel_options{.overlap_backward = true}, the gradients are
// averaged in buckets during the backward pass instead: each bucket, once the
// kernel finishing it has run, by a thread this object makes once, while the
// kernels left run (the program's plan runs each gradient's kernel as early
// as it can); the last bucket and the buffers after the step. The same
// results, bit for bit on two ranks.
//
// With data_parallel_options{.shard_update = true} (ZeRO stage 1, stores of
// trainable parameters alone), each rank instead updates its averaged 1/N of
// the block (that part of the parameters and of the optimizer's state), and
// the ranks gather the parameters rather than the gradients (MPI_Allgatherv):
// the same bytes, and 1/N of the update on each rank. The parameters stay equal
// bit for bit; the optimizer's state is current only in each rank's part
// until gather_optimizer_state() (collective: before saving it).
//
// A rank whose data fail the program's checks (a class id out of range)
// makes every rank's step return NaN: no parameter or optimizer state
// changes on any rank, and no rank waits for ever. What is equal and what is
// not: a model whose loss is a mean over independent rows (an MLP, a CNN
// without batch norm) gives the single-process result; batch norm
// normalises over each rank's shard (as torch's DistributedDataParallel
// without SyncBatchNorm), and dropout draws each rank's masks from its own
// program's stream (the same seed on every rank unless program.seed(rank)).

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <tapeless/core/parameter_store.hpp>
#include <tapeless/dist/communicator.hpp>
#include <tapeless/optim/trainer.hpp>
#include <tapeless/simd/map.hpp>

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
  // Trainable parameters alone (no buffers): the gradients can be reduced where they lie.
  static constexpr bool only_parameters = (Entries::trainable && ...);
  static constexpr std::size_t gradient_count = ((Entries::trainable ? Entries::shape_type::size : 0) + ...);
  static constexpr std::size_t reduced_count =
      ((Entries::trainable || std::is_same_v<typename Entries::element_type, gradient_type>
            ? Entries::shape_type::size
            : 0) +
       ...);
  // The buffers reduced with the gradients (reduced, not trainable).
  static constexpr std::size_t buffer_count = reduced_count - gradient_count;
  static constexpr std::size_t first_gradient = first_trainable<Entries...>();
  // The entry called Name (count if none is).
  template <fixed_string Name>
  static constexpr std::size_t index_of = tapeless::detail::name_index<Name, Entries::name...>;
  // Where entry i lies in a buffer of the reduced entries one after another:
  // with the gradients, or (an overlapped step's) the buffers alone.
  static constexpr std::size_t offset(std::size_t i, bool with_gradients = true) {
    std::size_t o = 0;
    for (std::size_t k = 0; k < i; ++k) o += reduced[k] && (with_gradients || !trainable[k]) ? sizes[k] : 0;
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

// How the ranks share a step's work after the backward pass.
struct data_parallel_options {
  // ZeRO stage 1's sharded update: each of N ranks updates its 1/N of the
  // parameters from its averaged part of the gradients, then the ranks
  // gather the parameters (MPI_Allgatherv), instead of gathering the
  // gradients and every rank repeating the whole update. The parameters stay equal bit for bit on
  // every rank; the optimizer's state is current only in each rank's part
  // (gather_optimizer_state() brings it together, for a checkpoint). Needs a
  // store of trainable parameters alone (no batch-norm buffers).
  bool shard_update = false;
  // Averages the gradients in buckets while the backward pass still runs, as
  // PyTorch's DistributedDataParallel does: the program's plan says which
  // kernel writes each gradient last; once the kernel finishing a bucket has
  // run, a thread of this object's own (made once, waiting on a futex
  // between steps) exchanges that bucket while the kernels left run here.
  // What it can hide is the exchange of the gradients finished early (the
  // layers nearest the loss: a CNN's dense head before its convolutions'
  // backward pass) where a core is free for that thread and the transport
  // moves data on its own (a network); two ranks on two cores share them
  // with it. Buffers (batch norm's running statistics) are averaged after
  // the step. Not with shard_update; needs MPI_THREAD_SERIALIZED
  // (tl::dist::environment asks for it).
  bool overlap_backward = false;
  // The bytes of gradients a bucket gathers, in the order the backward pass
  // finishes them: a bucket closes with the gradient that reaches this.
  std::size_t bucket_bytes = 256 * 1024;
};

template <class Program, class Optimizer, class Store>
class data_parallel {
  using layout = detail::store_layout<Store>;

 public:
  using value_type = typename Program::value_type;
  using gradient_type = typename layout::gradient_type;
  // Scalars reduced per step: gradients, same-typed buffers, the loss and the failure flag.
  static constexpr std::size_t reduced_count = layout::reduced_count + 2;
  static constexpr std::size_t reduced_bytes = reduced_count * sizeof(gradient_type);
  // Can the update be shared (tl::optim::optimizer_for can: it updates a part of a parameter)?
  static constexpr bool can_shard_update =
      layout::only_parameters && requires(Optimizer& o, Store& p, const gradient_type* g) {
        o.begin_step();
        o.template update_entry_part<0>(p, std::size_t{}, std::size_t{}, g);
      };

  // Collective: see the top of this file. The program and optimizer must
  // outlive this object (the communicator is copied: a handle).
  data_parallel(const communicator& comm, Program& program, Optimizer& optimizer, Store& params,
                data_parallel_options options = {})
      : comm_(comm), program_(program), optimizer_(optimizer), inverse_size_(gradient_type(1) / comm.size()) {
    static_assert(Program::trains, "tl::dist::data_parallel: the program must be a training step (a loss over params)");
    check_same_model();
    broadcast_from_root(params, std::make_index_sequence<layout::count>{});
    const bool blocks = find_blocks(params, std::make_index_sequence<layout::count>{});
    if constexpr (layout::only_parameters) in_place_ = blocks;
    if (options.shard_update && !in_place_)
      throw error("tl::dist::data_parallel: shard_update needs a parameter store of trainable parameters alone "
                  "(this one holds buffers, such as batch norm's running statistics)");
    if (options.shard_update && !can_shard_update)
      throw error("tl::dist::data_parallel: shard_update needs an optimizer that updates part of a parameter "
                  "(tl::optim::optimizer_for::update_entry_part)");
    if (options.overlap_backward && !blocks)
      throw error("tl::dist::data_parallel: overlap_backward needs a parameter store that keeps its gradients in "
                  "one block (tl::parameters_of makes such stores)");
    if (options.overlap_backward && options.shard_update)
      throw error("tl::dist::data_parallel: overlap_backward and shard_update cannot be used together (the sharded "
                  "update reduces each rank's part of the gradients once the backward pass is done)");
    shard_update_ = options.shard_update && comm.size() > 1;
    overlap_ = options.overlap_backward && comm.size() > 1;
    if ((in_place_ || overlap_) && comm.size() > 1) share_out_parts();
    if (overlap_) make_buckets(options.bucket_bytes);
    // Overlapped, a store with buffers reduces only those through the buffer (and the loss and flag).
    if (!in_place_) reduced_.assign(overlap_ ? layout::buffer_count + 2 : reduced_count, gradient_type(0));
    if (threaded_buckets_ > 0) communication_ = std::thread([this] { communicate(); });  // last: nothing throws after
  }
  // From a trainer (tl::compile(loss, rule)): its program and its optimizer.
  template <class P, class O>
  data_parallel(const communicator& comm, optim::trainer<P, O>& trainer, Store& params,
                data_parallel_options options = {})
      : data_parallel(comm, trainer.program(), trainer.optimizer(), params, options) {}

  data_parallel(const data_parallel&) = delete;
  data_parallel& operator=(const data_parallel&) = delete;
  ~data_parallel() {
    if (communication_.joinable()) {
      stopping_.store(true, std::memory_order_release);
      posted_.fetch_add(1, std::memory_order_release);
      posted_.notify_one();
      communication_.join();
    }
  }

  // Collective: one step of every rank on its shard. Returns the mean loss
  // over the global batch (the same on every rank); NaN, with nothing
  // changed, when some rank's data failed the program's checks (this
  // rank's reason, if it was one of them: program.last_error()).
  template <class... Bindings>
  value_type step(Store& params, const Bindings&... bindings) noexcept {
    if (overlap_) return step_overlapped(params, bindings...);
    const value_type loss = program_.step(params, bindings...);
    const bool failed = static_cast<bool>(program_.last_error());
    if (comm_.size() == 1) {  // nothing to average: no copies (the step of one process)
      if (failed) return loss;  // NaN
      optimizer_.step(params);
      return loss;
    }
    if constexpr (!layout::only_parameters)
      return step_through_buffer(params, loss, failed);
    else
      return step_in_place(params, loss, failed);
  }

  // Collective, for a checkpoint after sharded updates: every rank's part of
  // the optimizer's state to every rank, which then all hold the state one
  // process would (without shard_update they already do: nothing is sent).
  // Allocates the counts it sends.
  void gather_optimizer_state() {
    if constexpr (layout::only_parameters)
      if (shard_update_) gather_state(std::make_index_sequence<layout::count>{});
  }
  bool shards_update() const noexcept { return shard_update_; }
  // Are the gradients reduced in buckets during the backward pass
  // (overlap_backward, on more than one rank)? Into how many?
  bool overlaps_backward() const noexcept { return overlap_; }
  std::size_t bucket_count() const noexcept { return bucket_ends_.size(); }
  // After which of the step's kernels (its position; program.training_kernels:
  // after the step) bucket b starts: the kernels after it run while it moves.
  std::size_t bucket_start(std::size_t b) const noexcept { return bucket_starts_[b]; }
  // How many buckets the last step handed to the communication thread while
  // its kernels still ran (those before the last kernel's, unless this rank's
  // data failed the program's checks).
  std::size_t buckets_overlapped() const noexcept { return overlapped_; }
  // Are the gradients reduced where the store keeps them (a store of trainable
  // parameters alone), rather than copied to a buffer and back?
  bool reduces_in_place() const noexcept { return in_place_; }

  const communicator& comm() const noexcept { return comm_; }
  Program& program() noexcept { return program_; }
  Optimizer& optimizer() noexcept { return optimizer_; }

 private:
  // The step of a store of trainable parameters alone.
  value_type step_in_place(Store& params, value_type loss, bool failed) noexcept {
    if (!in_place_) return step_through_buffer(params, loss, failed);
    // The loss and the failure flag first (a few bytes): a failed step then
    // reduces and changes nothing more on any rank.
    gradient_type flags[2];
    write_flags(flags, loss, failed);
    MPI_Allreduce(MPI_IN_PLACE, flags, 2, detail::mpi_type<gradient_type>(), MPI_SUM, comm_.native());
    if (flags[1] != gradient_type(0)) return std::numeric_limits<value_type>::quiet_NaN();
    // The gradients where the store keeps them: one block, which the
    // reduction reads and writes in place (the padding between tensors is
    // summed too, and never read).
    gradient_type* gradients = block_of(params.template grad_at<0>());
    reduce_part(gradients);  // this rank's part of the block: the ranks' average
    if (!shard_update_) {
      // Every rank's averaged part to every rank, and the whole update on each.
      gather_parts(gradients, parts_.data(), part_starts_.data());
      optimizer_.step(params);
    } else if constexpr (can_shard_update) {
      optimizer_.begin_step();
      update_part(params, gradients + part_start_, std::make_index_sequence<layout::count>{});
      // Every rank's updated part to every rank; then the store is told of the writes.
      gradient_type* values = block_of(std::as_const(params).template value_at<0>());
      gather_parts(values, parts_.data(), part_starts_.data());
      params.mark_changed();
    }
    return static_cast<value_type>(flags[0]);
  }

  // What the program's step tells of each kernel it has run
  // (overlap_backward): an update that fuses nothing and watches.
  struct kernel_observer {
    template <std::size_t Param>
    static constexpr bool fuses = false;
    static constexpr bool plain_capable = false;
    data_parallel* owner;
    void after_kernel(std::size_t position) noexcept { owner->after_kernel(position); }
  };

  // The step with the reduction overlapped (overlap_backward). A bucket
  // whose gradients are whole while kernels remain goes to this object's
  // communication thread as soon as the backward pass has written it; that
  // thread averages the buckets one after another, by the ring of the step
  // without overlap (reduce_part, then MPI_Allgatherv), while this thread
  // runs the kernels left. The last bucket (the last kernel writes it, or no
  // kernel does) has nothing left to hide behind: this thread averages it
  // once the communication thread is done. A rank whose data failed the
  // checks ran no kernel and posts every bucket after its step, so the ranks
  // exchange the same parts in the same order. Then the loss and the failure
  // flag, and the update unless some rank failed (the gradients are then
  // left averaged from whatever the store held; parameters and optimizer
  // state unchanged). One thread calls MPI at a time (MPI_THREAD_SERIALIZED).
  template <class... Bindings>
  value_type step_overlapped(Store& params, const Bindings&... bindings) noexcept {
    gradients_ = gradient_block(params);
    posted_in_step_ = 0;
    kernel_observer observer{this};
    const value_type loss = program_.step_with_update(observer, params, bindings...);
    const bool failed = static_cast<bool>(program_.last_error());
    overlapped_ = posted_in_step_;
    post_buckets_through(threaded_buckets_);
    const std::uint64_t all_done = posted_base_ + threaded_buckets_;
    for (std::uint64_t d = done_.load(std::memory_order_acquire); d != all_done;
         d = done_.load(std::memory_order_acquire))
      done_.wait(d, std::memory_order_acquire);
    posted_base_ = all_done;
    for (std::size_t b = threaded_buckets_; b < bucket_ends_.size(); ++b) reduce_bucket(b);
    // The loss and failure flag, after the buffers (batch norm's running
    // statistics: averaged even when a rank failed, as without overlap).
    gradient_type flags_only[2];
    gradient_type* flags = layout::buffer_count > 0 ? reduced_.data() + layout::buffer_count : flags_only;
    write_flags(flags, loss, failed);
    if constexpr (layout::buffer_count > 0) {
      pack<false>(params, reduced_.data(), std::make_index_sequence<layout::count>{});
      MPI_Allreduce(MPI_IN_PLACE, reduced_.data(), static_cast<int>(layout::buffer_count + 2),
                    detail::mpi_type<gradient_type>(), MPI_SUM, comm_.native());
      unpack<false>(params, reduced_.data(), false, std::make_index_sequence<layout::count>{});
    } else {
      MPI_Allreduce(MPI_IN_PLACE, flags, 2, detail::mpi_type<gradient_type>(), MPI_SUM, comm_.native());
    }
    if (flags[1] != gradient_type(0)) return std::numeric_limits<value_type>::quiet_NaN();
    optimizer_.step(params);
    return static_cast<value_type>(flags[0]);
  }
  void after_kernel(std::size_t position) noexcept { post_buckets_through(buckets_done_at_[position]); }
  // Hands buckets [posted_in_step_, through) to the communication thread.
  void post_buckets_through(std::size_t through) noexcept {
    through = std::min(through, threaded_buckets_);
    if (through <= posted_in_step_) return;
    posted_in_step_ = through;
    posted_.store(posted_base_ + through, std::memory_order_release);
    posted_.notify_one();
  }
  // The communication thread: waits (on a futex, not spinning) for buckets
  // and averages them in the order posted. posted_ and done_ count the
  // buckets since construction, threaded_buckets_ a step.
  void communicate() noexcept {
    std::uint64_t done = 0;
    for (;;) {
      posted_.wait(done, std::memory_order_acquire);
      if (stopping_.load(std::memory_order_acquire)) return;
      const std::uint64_t posted = posted_.load(std::memory_order_acquire);
      for (; done < posted; ++done) reduce_bucket(static_cast<std::size_t>(done % threaded_buckets_));
      done_.store(done, std::memory_order_release);
      done_.notify_one();
    }
  }
  // Each run of bucket b averaged in place over the ranks.
  void reduce_bucket(std::size_t b) noexcept {
    for (std::size_t r = b == 0 ? 0 : bucket_ends_[b - 1]; r < bucket_ends_[b]; ++r) {
      gradient_type* values = gradients_ + runs_[r].start;
      split(runs_[r].count, run_parts_.data(), run_part_starts_.data());
      reduce_part(values, run_parts_.data(), run_part_starts_.data());
      gather_parts(values, run_parts_.data(), run_part_starts_.data());
    }
  }
  // The buckets, once: the store's entries in the order the backward pass
  // finishes their gradients (gradients no kernel writes last), gathered
  // until a bucket holds bucket_bytes; each bucket's entries that lie side
  // by side in the block are one run (with the padding between them).
  template <std::size_t... I>
  void ready_positions(std::size_t* ready, std::index_sequence<I...>) const {
    using schedule = typename Program::training_schedule;
    constexpr auto written_at = schedule::template gradients_written_at<>;
    ((ready[layout::template index_of<schedule::template parameter<I>::name>] =
          written_at[I] < 0 ? Program::training_kernels : static_cast<std::size_t>(written_at[I])),
     ...);
  }
  void make_buckets(std::size_t bucket_bytes) {
    constexpr std::size_t kernels = Program::training_kernels;
    std::size_t ready[layout::count + 1];
    std::fill(std::begin(ready), std::end(ready), kernels);
    ready_positions(ready, std::make_index_sequence<Program::training_schedule::parameter_count>{});
    std::vector<std::size_t> by_ready, by_offset(layout::count), place(layout::count);
    for (std::size_t i = 0; i < layout::count; ++i) {
      by_offset[i] = i;
      if (layout::trainable[i]) by_ready.push_back(i);  // buffers are averaged after the step
    }
    std::stable_sort(by_ready.begin(), by_ready.end(), [&](std::size_t a, std::size_t b) {
      return ready[a] != ready[b] ? ready[a] < ready[b] : offsets_[a] > offsets_[b];
    });
    std::sort(by_offset.begin(), by_offset.end(), [&](std::size_t a, std::size_t b) { return offsets_[a] < offsets_[b]; });
    for (std::size_t k = 0; k < layout::count; ++k) place[by_offset[k]] = k;
    buckets_done_at_.assign(kernels, 0);
    std::vector<std::size_t> bucket;
    std::size_t bytes = 0;
    for (std::size_t k = 0; k < by_ready.size(); ++k) {
      bucket.push_back(by_ready[k]);
      bytes += layout::sizes[by_ready[k]] * sizeof(gradient_type);
      if (bytes < bucket_bytes && k + 1 < by_ready.size()) continue;
      std::sort(bucket.begin(), bucket.end(), [&](std::size_t a, std::size_t b) { return place[a] < place[b]; });
      for (std::size_t e = 0; e < bucket.size(); ++e) {
        const std::size_t end = offsets_[bucket[e]] + layout::sizes[bucket[e]];
        if (e > 0 && place[bucket[e]] == place[bucket[e - 1]] + 1)
          runs_.back().count = end - runs_.back().start;
        else
          runs_.push_back({offsets_[bucket[e]], layout::sizes[bucket[e]]});
      }
      bucket_ends_.push_back(runs_.size());
      // Its last gradient's kernel starts it (and any bucket before it not started yet).
      const std::size_t at = ready[by_ready[k]];
      bucket_starts_.push_back(at);
      if (at < kernels) buckets_done_at_[at] = bucket_ends_.size();
      bucket.clear(), bytes = 0;
    }
    // The buckets the communication thread takes: those with kernels left after them.
    threaded_buckets_ = static_cast<std::size_t>(
        std::count_if(bucket_starts_.begin(), bucket_starts_.end(), [](std::size_t at) { return at + 1 < kernels; }));
    run_parts_.assign(parts_.size(), 0), run_part_starts_.assign(parts_.size(), 0);
    if (threaded_buckets_ == 0) return;
    int level = MPI_THREAD_SINGLE;
    MPI_Query_thread(&level);
    if (level < MPI_THREAD_SERIALIZED)
      throw error("tl::dist::data_parallel: overlap_backward reduces on a thread of its own, which needs MPI "
                  "initialised with MPI_THREAD_SERIALIZED or more (tl::dist::environment asks for it; this run "
                  "has level " + std::to_string(level) + ")");
  }

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

  // The step of a store with buffers: gradients and buffers copied into one
  // buffer, reduced, and the averages written back.
  value_type step_through_buffer(Store& params, value_type loss, bool failed) noexcept {
    gradient_type* buffer = reduced_.data();
    pack<true>(params, buffer, std::make_index_sequence<layout::count>{});
    write_flags(buffer + reduced_count - 2, loss, failed);
    MPI_Allreduce(MPI_IN_PLACE, buffer, static_cast<int>(reduced_count), detail::mpi_type<gradient_type>(), MPI_SUM,
                  comm_.native());
    const bool any_failed = buffer[reduced_count - 1] != gradient_type(0);
    // Buffers (running statistics) are written back even then: the ranks
    // that stepped changed theirs, and the ranks must keep one copy.
    unpack<true>(params, buffer, !any_failed, std::make_index_sequence<layout::count>{});
    if (any_failed) return std::numeric_limits<value_type>::quiet_NaN();
    optimizer_.step(params);
    return static_cast<value_type>(buffer[reduced_count - 2]);
  }

  // The store keeps its values in one block and its gradients in another of
  // the same layout (a tuple of tensors each): entry I at offsets_[I]
  // gradient_type values from the start of either (its buffers too, whatever
  // their element type). Found once, from the addresses; false (the step then
  // copies through a buffer) if the layout is not that.
  template <std::size_t... I>
  bool find_blocks(Store& params, std::index_sequence<I...>) {
    const Store& p = params;
    const std::byte* grads[] = {reinterpret_cast<const std::byte*>(p.template grad_at<I>().data())...};
    const std::byte* values[] = {reinterpret_cast<const std::byte*>(p.template value_at<I>().data())...};
    constexpr std::size_t bytes[] = {layout::sizes[I] * sizeof(*p.template grad_at<I>().data())...};
    const std::byte* grad_start = *std::min_element(std::begin(grads), std::end(grads));
    const std::byte* value_start = *std::min_element(std::begin(values), std::end(values));
    std::size_t end = 0;
    for (std::size_t i = 0; i < layout::count; ++i) {
      const auto offset = static_cast<std::size_t>(grads[i] - grad_start);
      if (values[i] - value_start != grads[i] - grad_start || offset % sizeof(gradient_type) != 0) return false;
      offsets_[i] = offset / sizeof(gradient_type);
      end = std::max(end, offset + bytes[i]);
    }
    block_count_ = (end + sizeof(gradient_type) - 1) / sizeof(gradient_type);
    return block_count_ <= static_cast<std::size_t>(INT_MAX);
  }
  // The start of the block that holds `first`, entry 0's value or gradient.
  template <class Tensor>
  gradient_type* block_of(const Tensor& first) const noexcept {
    return const_cast<gradient_type*>(first.data()) - offsets_[0];
  }
  // The start of the store's block of gradients (from its first trainable entry's).
  gradient_type* gradient_block(Store& params) const noexcept {
    return params.template grad_at<layout::first_gradient>().data() - offsets_[layout::first_gradient];
  }

  // Rank r averages (and with shard_update, updates) block values
  // [part_starts_[r], + parts_[r]): parts of equal size, in whole cache
  // lines, the last shorter.
  void share_out_parts() {
    parts_.resize(static_cast<std::size_t>(comm_.size()));
    part_starts_.resize(parts_.size());
    const std::size_t rounded = split(block_count_, parts_.data(), part_starts_.data());
    part_start_ = static_cast<std::size_t>(part_starts_[comm_.rank()]);
    part_count_ = static_cast<std::size_t>(parts_[comm_.rank()]);
    scratch_.assign(rounded, gradient_type(0));
  }
  // count values in one part per rank (parts[r] values from starts[r]): equal
  // parts in whole cache lines, the last shorter. Returns the longest part.
  std::size_t split(std::size_t count, int* parts, int* starts) const noexcept {
    constexpr std::size_t line = 64 / sizeof(gradient_type);
    const std::size_t ranks = static_cast<std::size_t>(comm_.size());
    const std::size_t part = (count + ranks - 1) / ranks;
    const std::size_t rounded = (part + line - 1) / line * line;
    for (std::size_t r = 0; r < ranks; ++r) {
      const std::size_t start = std::min(r * rounded, count);
      starts[r] = static_cast<int>(start);
      parts[r] = static_cast<int>(std::min(rounded, count - start));
    }
    return rounded;
  }
  // The average of this rank's part of the gradients over the ranks, in
  // place: a ring of N - 1 exchanges, in each of which a rank passes one part
  // on to the next and adds the one it receives (each part is summed once,
  // on its rank, so every rank gathers the same bits). MPI_Reduce_scatter
  // in place took 80 us for the MLP's 918 KiB on 2 ranks, what a whole
  // allreduce costs; its one exchange here takes 35 us.
  // (Of a run of the block split in parts and starts as split() does: the
  // overlapped step's last bucket.)
  void reduce_part(gradient_type* gradients) noexcept { reduce_part(gradients, parts_.data(), part_starts_.data()); }
  void reduce_part(gradient_type* gradients, const int* parts, const int* starts) noexcept {
    const int ranks = comm_.size(), rank = comm_.rank();
    const int next = (rank + 1) % ranks, previous = (rank + ranks - 1) % ranks;
    for (int step = 0; step + 1 < ranks; ++step) {
      const auto sent = static_cast<std::size_t>((rank - step - 1 + 2 * ranks) % ranks);
      const auto received = static_cast<std::size_t>((rank - step - 2 + 2 * ranks) % ranks);
      MPI_Sendrecv(gradients + starts[sent], parts[sent], detail::mpi_type<gradient_type>(), next, 0,
                   scratch_.data(), parts[received], detail::mpi_type<gradient_type>(), previous, 0,
                   comm_.native(), MPI_STATUS_IGNORE);
      gradient_type* into = gradients + starts[received];
      const gradient_type s = step + 2 == ranks ? inverse_size_ : gradient_type(1);  // the last sum: averaged
      simd::map(static_cast<std::size_t>(parts[received]), [s](auto a, auto b) { return (a + b) * s; },
                simd::in(into, scratch_.data()), simd::out(into));
    }
  }
  // This rank's share of the mean loss and its failure flag: summed over the
  // ranks, the global batch's mean loss and the count of ranks that failed.
  void write_flags(gradient_type* flags, value_type loss, bool failed) const noexcept {
    flags[0] = failed ? gradient_type(0) : static_cast<gradient_type>(loss) * inverse_size_;
    flags[1] = failed ? gradient_type(1) : gradient_type(0);
  }
  // Every rank's part of a block (parts[r] values from starts[r]) to every
  // rank, in place.
  void gather_parts(gradient_type* block, const int* parts, const int* starts) noexcept {
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, block, parts, starts, detail::mpi_type<gradient_type>(),
                   comm_.native());
  }
  // The update of this rank's part: of each parameter, the values it holds.
  template <std::size_t... I>
  void update_part(Store& params, const gradient_type* part, std::index_sequence<I...>) noexcept {
    (
        [&] {
          const std::size_t lo = std::max(offsets_[I], part_start_);
          const std::size_t hi = std::min(offsets_[I] + layout::sizes[I], part_start_ + part_count_);
          if (lo < hi)
            optimizer_.template update_entry_part<I>(params, lo - offsets_[I], hi - lo, part + (lo - part_start_));
        }(),
        ...);
  }
  template <std::size_t... I>
  void gather_state(std::index_sequence<I...>) {
    const std::size_t ranks = parts_.size();
    std::vector<int> counts(ranks), starts(ranks);
    (
        [&] {
          for (std::size_t r = 0; r < ranks; ++r) {
            const std::size_t part_start = static_cast<std::size_t>(part_starts_[r]);
            const std::size_t lo = std::clamp(part_start, offsets_[I], offsets_[I] + layout::sizes[I]);
            const std::size_t hi = std::clamp(part_start + static_cast<std::size_t>(parts_[r]), offsets_[I],
                                              offsets_[I] + layout::sizes[I]);
            starts[r] = static_cast<int>(lo - offsets_[I]);
            counts[r] = static_cast<int>(hi - lo);
          }
          if constexpr (requires { optimizer_.template state_at<I>(); })
            for (auto& tensor : optimizer_.template state_at<I>())
              gather_parts(tensor.data(), counts.data(), starts.data());
        }(),
        ...);
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

  // The reduced entries into one buffer (layout::offset): the gradients and
  // buffers, or (WithGradients false) the buffers alone. Reads through const
  // references: reading is no write the store must count.
  template <bool WithGradients, std::size_t... I>
  static void pack(const Store& params, gradient_type* buffer, std::index_sequence<I...>) noexcept {
    (
        [&] {
          if constexpr (layout::trainable[I] && WithGradients)
            std::memcpy(buffer + layout::offset(I, WithGradients), params.template grad_at<I>().data(),
                        layout::sizes[I] * sizeof(gradient_type));
          else if constexpr (!layout::trainable[I] && layout::reduced[I])
            std::memcpy(buffer + layout::offset(I, WithGradients), params.template value_at<I>().data(),
                        layout::sizes[I] * sizeof(gradient_type));
        }(),
        ...);
  }
  // Their averages written back: the buffers, and the gradients if packed and asked.
  template <bool WithGradients, std::size_t... I>
  void unpack(Store& params, const gradient_type* buffer, bool gradients, std::index_sequence<I...>) const noexcept {
    const gradient_type scale = inverse_size_;
    auto average = [scale](gradient_type* to, const gradient_type* from, std::size_t n) noexcept {
      for (std::size_t i = 0; i < n; ++i) to[i] = from[i] * scale;
    };
    (
        [&] {
          if constexpr (layout::trainable[I]) {
            if (WithGradients && gradients)
              average(params.template grad_at<I>().data(), buffer + layout::offset(I), layout::sizes[I]);
          } else if constexpr (layout::reduced[I]) {
            average(params.template value_at<I>().data(), buffer + layout::offset(I, WithGradients), layout::sizes[I]);
          }
        }(),
        ...);
  }

  communicator comm_;
  Program& program_;
  Optimizer& optimizer_;
  gradient_type inverse_size_;
  bool in_place_ = false;
  std::size_t offsets_[layout::count] = {};  // in the blocks of values and of gradients
  std::size_t block_count_ = 0;              // values in a block, padding included
  bool shard_update_ = false;
  std::vector<int> parts_, part_starts_;     // every rank's part of a block
  std::size_t part_start_ = 0, part_count_ = 0;  // this rank's
  std::vector<gradient_type> scratch_;       // a part received from another rank
  std::vector<gradient_type> reduced_;       // stores with buffers: made once, in the constructor
  // overlap_backward: made once, in the constructor.
  struct gradient_run {
    std::size_t start, count;  // values of the block
  };
  bool overlap_ = false;
  std::vector<gradient_run> runs_;           // bucket after bucket
  std::vector<std::size_t> bucket_ends_;     // bucket b: runs_[bucket_ends_[b - 1], bucket_ends_[b])
  std::vector<std::size_t> bucket_starts_;   // bucket b starts after the kernel at this position
  std::vector<std::size_t> buckets_done_at_; // per kernel position: the buckets whose gradients are then whole
  std::vector<int> run_parts_, run_part_starts_;  // a run's parts in the ring
  std::size_t threaded_buckets_ = 0;         // the first buckets, which the communication thread reduces
  std::thread communication_;
  // ... and during a step.
  gradient_type* gradients_ = nullptr;
  std::size_t posted_in_step_ = 0, overlapped_ = 0;
  std::uint64_t posted_base_ = 0;            // buckets posted before this step
  std::atomic<std::uint64_t> posted_{0}, done_{0};
  std::atomic<bool> stopping_{false};
};

template <class P, class O, class Store>
data_parallel(const communicator&, optim::trainer<P, O>&, Store&) -> data_parallel<P, O, Store>;
template <class P, class O, class Store>
data_parallel(const communicator&, optim::trainer<P, O>&, Store&, data_parallel_options)
    -> data_parallel<P, O, Store>;

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
