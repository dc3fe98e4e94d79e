#pragma once
// dataset<F, Target>: N samples, each a row of F floats (the features) and one
// target: a class id (std::int32_t, the default) or a float (regression).
//
//   tl::train::dataset<784> images;                 // class ids
//   images.push_back(row, 7);                       // row: std::span<const float, 784>
//   images.features(0)                              // std::span<const float, 784>
//   images.target(0)                                // 7
//   images.check_labels(10);                        // every id in [0, 10), or data_error
//
// The width is static because a compiled program's input is: a dataset of the
// wrong width does not compile against it. Rows are stored contiguously, so a
// batch is filled by F-float copies.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <tapeless/train/data_error.hpp>

namespace tapeless::train {

template <std::size_t F, class Target = std::int32_t>
class dataset {
  static_assert(F > 0, "tl::train::dataset<F, Target>: the feature width F must be at least 1");
  static_assert(std::is_same_v<Target, std::int32_t> || std::is_floating_point_v<Target>,
                "tl::train::dataset<F, Target>: Target is std::int32_t (class ids) or a floating "
                "type (regression targets)");

 public:
  using target_type = Target;
  static constexpr std::size_t width = F;

  dataset() = default;
  // From rows already laid out: features.size() must be F * targets.size().
  dataset(std::vector<float> features, std::vector<Target> targets, std::string source = "dataset")
      : features_(std::move(features)), targets_(std::move(targets)), source_(std::move(source)) {
    if (features_.size() != F * targets_.size())
      throw data_error(source_, std::to_string(features_.size()) + " feature values for " +
                                    std::to_string(targets_.size()) + " targets; expected " +
                                    std::to_string(F) + " per target");
  }

  std::size_t size() const noexcept { return targets_.size(); }
  bool empty() const noexcept { return targets_.empty(); }

  std::span<const float, F> features(std::size_t i) const noexcept {
    return std::span<const float, F>(features_.data() + i * F, F);
  }
  std::span<float, F> features(std::size_t i) noexcept { return std::span<float, F>(features_.data() + i * F, F); }
  Target target(std::size_t i) const noexcept { return targets_[i]; }
  Target& target(std::size_t i) noexcept { return targets_[i]; }

  // All rows, row-major, and all targets.
  std::span<const float> all_features() const noexcept { return features_; }
  std::span<const Target> all_targets() const noexcept { return targets_; }

  void reserve(std::size_t n) {
    features_.reserve(n * F);
    targets_.reserve(n);
  }
  void push_back(std::span<const float, F> row, Target target) {
    features_.insert(features_.end(), row.begin(), row.end());
    targets_.push_back(target);
  }

  // Where the data came from (a file name), for error messages.
  const std::string& source() const noexcept { return source_; }
  void set_source(std::string source) { source_ = std::move(source); }

  // Names of the classes, when the source gave them (CSV with text labels):
  // class_names()[id] is the label text of class id.
  const std::vector<std::string>& class_names() const noexcept { return class_names_; }
  void set_class_names(std::vector<std::string> names) { class_names_ = std::move(names); }

  // A copy holding the rows at `indices`, in that order.
  dataset subset(std::span<const std::size_t> indices) const {
    dataset out;
    out.reserve(indices.size());
    for (const std::size_t i : indices) out.push_back(features(i), target(i));
    out.source_ = source_;
    out.class_names_ = class_names_;
    return out;
  }

  // Checks that every class id is in [0, classes): a program with `classes`
  // outputs would otherwise read past its logits. Throws data_error naming
  // the first offending row.
  void check_labels(std::size_t classes) const
    requires std::same_as<Target, std::int32_t>
  {
    for (std::size_t i = 0; i < size(); ++i) {
      const Target label = targets_[i];
      if (label < 0 || static_cast<std::size_t>(label) >= classes)
        throw data_error(source_, "sample " + std::to_string(i) + " has label " + std::to_string(label) +
                                      ", outside [0, " + std::to_string(classes) + ")");
    }
  }

  // One more than the largest class id (0 when empty).
  std::size_t class_count() const noexcept
    requires std::same_as<Target, std::int32_t>
  {
    Target top = -1;
    for (const Target label : targets_) top = std::max(top, label);
    return static_cast<std::size_t>(top + 1);
  }

 private:
  std::vector<float> features_;
  std::vector<Target> targets_;
  std::string source_ = "dataset";
  std::vector<std::string> class_names_;
};

}  // namespace tapeless::train
