#pragma once
// dataset<F, Target>: N samples, each a row of F floats (the features) and one
// target: a class id (std::int32_t, the default) or a float (regression).
//
//   tl::train::dataset<784> images;                 // class ids
//   images.push_back(row, 7);                       // row: std::span<const float, 784>
//   images.features(0)                              // std::span<const float, 784>
//   images.target(0)                                // 7
//   images.check_labels(10);                        // every id in [0, 10), or data_error
//   images.declare_classes(10);                     // checked now and at every later push_back
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

namespace detail {
// What every reader and loader says of a class id outside [0, classes):
// `where` names the row (or line and column) in the source.
inline std::string class_id_out_of_range(const std::string& where, long long id, std::size_t classes) {
  return where + ": class id " + std::to_string(id) + " is outside [0, " + std::to_string(classes) + "), the " +
         std::to_string(classes) + " classes";
}
}  // namespace detail

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
  // With declared classes, a class id outside them throws data_error and
  // leaves the data set as it was.
  void push_back(std::span<const float, F> row, Target target) {
    if constexpr (std::is_same_v<Target, std::int32_t>)
      if (classes_ && (target < 0 || static_cast<std::size_t>(target) >= classes_))
        throw data_error(labels_source(),
                         detail::class_id_out_of_range("row " + std::to_string(size()), target, classes_));
    features_.insert(features_.end(), row.begin(), row.end());
    targets_.push_back(target);
  }

  // Where the data came from (a file name), for error messages.
  const std::string& source() const noexcept { return source_; }
  void set_source(std::string source) { source_ = std::move(source); }
  // Where the targets came from, when not from source() (an IDX labels file
  // beside its images): label errors name it.
  const std::string& labels_source() const noexcept { return labels_source_.empty() ? source_ : labels_source_; }
  void set_labels_source(std::string source) { labels_source_ = std::move(source); }

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
    out.labels_source_ = labels_source_;
    out.class_names_ = class_names_;
    out.classes_ = classes_;
    return out;
  }

  // Checks that every class id is in [0, classes): a program with `classes`
  // outputs would otherwise read past its logits. Throws data_error naming
  // labels_source(), the first offending row, its class id and the range.
  void check_labels(std::size_t classes) const
    requires std::same_as<Target, std::int32_t>
  {
    for (std::size_t i = 0; i < size(); ++i) {
      const Target label = targets_[i];
      if (label < 0 || static_cast<std::size_t>(label) >= classes)
        throw data_error(labels_source(), detail::class_id_out_of_range("row " + std::to_string(i), label, classes));
    }
  }

  // Declares the number of classes: checks every class id (as check_labels),
  // then keeps the count, so that push_back and the batch loaders check the
  // rows they are given against it. 0 declares nothing.
  void declare_classes(std::size_t classes)
    requires std::same_as<Target, std::int32_t>
  {
    if (classes) check_labels(classes);
    classes_ = classes;
  }
  // The declared number of classes, 0 when none was.
  std::size_t classes() const noexcept { return classes_; }

  // One more than the largest class id (0 when empty or all negative).
  std::size_t class_count() const noexcept
    requires std::same_as<Target, std::int32_t>
  {
    Target top = -1;
    for (const Target label : targets_) top = std::max(top, label);
    // In std::size_t: top + 1 overflows a std::int32_t at INT32_MAX.
    return top < 0 ? 0 : static_cast<std::size_t>(top) + 1;
  }

 private:
  std::vector<float> features_;
  std::vector<Target> targets_;
  std::string source_ = "dataset";
  std::string labels_source_;  // empty: source_
  std::vector<std::string> class_names_;
  std::size_t classes_ = 0;  // declared; 0: none
};

}  // namespace tapeless::train
