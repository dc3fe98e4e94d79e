#pragma once
// A whole training state in one file, so that a run killed at any moment
// resumes exactly where its last checkpoint was: the parameters, the
// optimizer's state tensors, its step count and learning rate, and where the
// data order stood (the loader's seed, the epoch and the step in it).
//
//   tl::io::save_checkpoint("run.ckpt", params, opt, {.epoch = e, .step = s, .seed = 42});
//   ...
//   const auto at = tl::io::load_checkpoint("run.ckpt", params, opt);
//   auto batches = tl::train::training_batches<64>(data, at.seed);
//   batches.start_epoch(at.epoch);
//   for (std::uint64_t i = 0; i < at.step; ++i) batches.next();   // the batches done before
//
// The file is a safetensors file (PyTorch can read it): the parameters
// under their names, the optimizer's state tensor k of parameter "p" under
// "optimizer.p.k", the rest in "__metadata__" ("tapeless.checkpoint",
// "optimizer.rule" (sgd, adam, ...), "optimizer.steps", "optimizer.lr", per
// trainable parameter "optimizer.p.steps", "optimizer.p.lr" and
// "optimizer.p.frozen" (parameter groups and frozen parameters, see
// optim/optimizer.hpp), "data.seed", "data.epoch", "data.step", and the
// caller's own keys). A file of another rule (adam's into adamw's), of
// other parameters or shapes, is refused with a message naming the
// difference. Version 1 files (no per-parameter keys) still load: every
// parameter then takes the optimizer's step count and lr. A group's other
// hyperparameters (weight decay, betas) are the code's: set_group again
// before loading. It is saved as tl::io::save saves (atomically,
// refusing non-finite weights unless told), and loaded as tl::io::load loads:
// everything checked and read first, then written, so on a throw the
// parameters and the optimizer are as they were. A learning-rate schedule
// needs nothing more: it is a function of the epoch (see optim/schedule.hpp).

#include <tapeless/core/parameter_store.hpp>
#include <tapeless/io/error.hpp>
#include <tapeless/io/safetensors.hpp>
#include <tapeless/optim/optimizer.hpp>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace tapeless::io {

// Where the data order stood: the loader's seed, the epoch (its shuffle) and
// the batches already taken in it.
struct training_position {
  std::uint64_t epoch = 0;
  std::uint64_t step = 0;
  std::uint64_t seed = 0;
};

namespace detail {

inline constexpr std::string_view checkpoint_version = "2";

template <class T>
std::string exact_text(T value) {
  char text[64];
  const auto result = std::to_chars(text, text + sizeof text, value);  // shortest form that reads back the same
  return std::string(text, result.ptr);
}

template <class T>
T checkpoint_number(const metadata& meta, const std::string& key, const std::string& where) {
  const auto it = meta.find(key);
  if (it == meta.end())
    throw error(where + "the metadata has no \"" + key + "\": the file is not a tapeless checkpoint");
  T value{};
  const std::string& text = it->second;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    throw error(where + "the metadata's \"" + key + "\" is " + json_quoted(text) + ", not a number");
  return value;
}

// The optimizer's state tensors as tensors to write (Out) or read into (In),
// named "optimizer.<parameter>.<k>"; `names` keeps the names alive.
template <class Tensor, class Optimizer, class... Entries, std::size_t... I>
std::vector<Tensor> optimizer_tensors(Optimizer& opt, std::vector<std::string>& names, std::index_sequence<I...>) {
  constexpr std::size_t k_count = std::remove_cvref_t<Optimizer>::state_tensors;
  names.reserve(sizeof...(Entries) * k_count);
  std::vector<Tensor> tensors;
  const auto add = [&]<std::size_t P, class Entry>(std::integral_constant<std::size_t, P>, Entry*) {
    auto& state = opt.template state_at<P>();
    for (std::size_t k = 0; k < k_count; ++k) {
      names.push_back("optimizer." + std::string(Entry::name.view()) + "." + std::to_string(k));
      tensors.push_back(Tensor{names.back(), dtype_name<typename Entry::element_type>(),
                               {Entry::shape_type::dims.begin(), Entry::shape_type::dims.end()}, state[k].data(),
                               sizeof(typename Entry::element_type) * Entry::shape_type::size});
    }
  };
  (add(std::integral_constant<std::size_t, I>{}, static_cast<Entries*>(nullptr)), ...);
  return tensors;
}

}  // namespace detail

// Saves params, opt and the position in the data to `path` (see above).
template <class Storage, class S2, class... Entries, class Rule, class Arch>
void save_checkpoint(const std::filesystem::path& path, const parameter_store<Storage, Entries...>& params,
                     const optim::optimizer_for<parameter_store<S2, Entries...>, Rule, Arch>& opt,
                     training_position position, metadata meta = {}, save_options options = {}) {
  static_assert(detail::names_are_unique<Entries...>(),
                "tapeless::io::save_checkpoint: two parameters of this store share a name");
  const std::string where = detail::where("tapeless::io::save_checkpoint", path);
  if (!options.allow_non_finite)
    if (const std::string_view name = detail::first_non_finite(params); !name.empty())
      throw error(where + "parameter " + detail::json_quoted(name) +
                  " holds a NaN or an infinity (did training diverge?); the file was not written. Pass "
                  "tl::io::save_options{.allow_non_finite = true} to save it anyway");
  meta["tapeless.checkpoint"] = std::string(detail::checkpoint_version);
  if constexpr (requires { Rule::name; }) meta["optimizer.rule"] = std::string(Rule::name);
  meta["optimizer.steps"] = detail::exact_text(opt.steps());
  meta["optimizer.lr"] = detail::exact_text(opt.lr());
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          if constexpr (Entries::trainable) {
            const std::string prefix = "optimizer." + std::string(Entries::name.view());
            meta[prefix + ".steps"] = detail::exact_text(opt.entry_steps(I));
            meta[prefix + ".lr"] = detail::exact_text(opt.entry_rule(I).lr);
            meta[prefix + ".frozen"] = opt.entry_frozen(I) ? "true" : "false";
          }
        }(),
        ...);
  }(std::index_sequence_for<Entries...>{});
  meta["data.seed"] = detail::exact_text(position.seed);
  meta["data.epoch"] = detail::exact_text(position.epoch);
  meta["data.step"] = detail::exact_text(position.step);
  const auto values = detail::tensors_of(params, std::index_sequence_for<Entries...>{});
  std::vector<std::string> names;
  auto tensors = detail::optimizer_tensors<detail::tensor_out, decltype(opt), Entries...>(
      opt, names, std::index_sequence_for<Entries...>{});
  tensors.insert(tensors.begin(), values.begin(), values.end());
  detail::write_safetensors(path, where, meta, tensors);
}

// Loads a checkpoint saved by save_checkpoint into params and opt (made for
// the same store and update rule) and returns the position in the data.
// Throws tl::io::error, leaving both as they were, if the file does not hold
// exactly their tensors or is not a checkpoint.
template <class Storage, class S2, class... Entries, class Rule, class Arch>
training_position load_checkpoint(const std::filesystem::path& path, parameter_store<Storage, Entries...>& params,
                                  optim::optimizer_for<parameter_store<S2, Entries...>, Rule, Arch>& opt,
                                  metadata* meta_out = nullptr) {
  const std::string where = detail::where("tapeless::io::load_checkpoint", path);
  const auto values = detail::tensors_of(params, std::index_sequence_for<Entries...>{});
  std::vector<std::string> names;
  auto tensors = detail::optimizer_tensors<detail::tensor_in, decltype(opt), Entries...>(
      opt, names, std::index_sequence_for<Entries...>{});
  tensors.insert(tensors.begin(), values.begin(), values.end());
  training_position position;
  std::uint64_t steps = 0;
  float lr = 0;
  constexpr std::size_t count = sizeof...(Entries);
  std::array<std::uint64_t, count> entry_steps{};
  std::array<float, count> entry_lr{};
  std::array<bool, count> entry_frozen{};
  bool per_parameter = false;  // version 2: each parameter's steps, lr and frozen flag
  metadata meta = detail::read_safetensors(path, where, tensors, load_options{}, [&](const metadata& m) {
    const auto version = m.find("tapeless.checkpoint");
    if (version == m.end())
      throw error(where + "the metadata has no \"tapeless.checkpoint\": the file is not a tapeless checkpoint "
                          "(tl::io::load reads parameters alone)");
    per_parameter = version->second == detail::checkpoint_version;
    if (!per_parameter && version->second != "1")
      throw error(where + "checkpoint version " + detail::json_quoted(version->second) + ", this reader knows 1 and " +
                  std::string(detail::checkpoint_version));
    if constexpr (requires { Rule::name; })
      if (const auto rule = m.find("optimizer.rule"); rule != m.end() && rule->second != Rule::name)
        throw error(where + "the checkpoint's optimizer is " + detail::json_quoted(rule->second) + ", this one is \"" +
                    std::string(Rule::name) + "\": its state would be read as another rule's");
    steps = detail::checkpoint_number<std::uint64_t>(m, "optimizer.steps", where);
    lr = detail::checkpoint_number<float>(m, "optimizer.lr", where);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (
          [&] {
            entry_steps[I] = steps, entry_lr[I] = opt.entry_rule(I).lr, entry_frozen[I] = opt.entry_frozen(I);
            if constexpr (Entries::trainable) {
              if (!per_parameter) return;
              const std::string prefix = "optimizer." + std::string(Entries::name.view());
              entry_steps[I] = detail::checkpoint_number<std::uint64_t>(m, prefix + ".steps", where);
              entry_lr[I] = detail::checkpoint_number<float>(m, prefix + ".lr", where);
              const auto frozen = m.find(prefix + ".frozen");
              if (frozen == m.end() || (frozen->second != "true" && frozen->second != "false"))
                throw error(where + "the metadata's \"" + prefix + ".frozen\" is missing or not true or false");
              entry_frozen[I] = frozen->second == "true";
            }
          }(),
          ...);
    }(std::index_sequence_for<Entries...>{});
    position.seed = detail::checkpoint_number<std::uint64_t>(m, "data.seed", where);
    position.epoch = detail::checkpoint_number<std::uint64_t>(m, "data.epoch", where);
    position.step = detail::checkpoint_number<std::uint64_t>(m, "data.step", where);
  });
  opt.set_steps(steps);
  opt.set_lr(lr);
  if (per_parameter)
    for (std::size_t i = 0; i < count; ++i) {
      opt.set_entry_steps(i, entry_steps[i]);
      opt.set_entry_lr(i, entry_lr[i]);
      opt.set_entry_frozen(i, entry_frozen[i]);
    }
  if (meta_out) meta_out->swap(meta);  // a swap cannot fail, a copy could
  return position;
}

}  // namespace tapeless::io
