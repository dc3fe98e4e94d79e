#pragma once
// Bad data found before a step runs. Checking costs one pass over the data
// the program reads by position (class ids: O(batch)) and a comparison per
// value of dynamic size; a step that finds a problem runs no kernel, leaves
// parameters, gradients and optimizer state as they were, and returns NaN.
// The reason stays in the program: program.last_error().

#include <cstddef>
#include <string>
#include <string_view>

namespace tapeless {

// What went wrong before a step ran (it then ran no kernel, changed no
// parameter or gradient, and returned NaN): program.last_error().
struct run_error {
  enum class kind : unsigned char {
    none,
    binding_size,   // a value of dynamic size does not have the input's size
    label_range,    // a class id outside [0, classes)
    stale_weight,   // a param written where its store could not see it (TAPELESS_CHECK_PACKED_WEIGHTS)
  };
  kind what = kind::none;
  std::string_view input{};  // the input's name (stale_weight: the param's)
  std::size_t row = 0;        // label_range: the row of the bad label
  long long value = 0;        // the size given, or the bad label
  std::size_t limit = 0;      // the input's size, or the class count

  explicit operator bool() const noexcept { return what != kind::none; }
};

namespace detail {

// The first class id among labels[0, rows) outside [0, classes), if any.
template <class Label>
run_error check_class_ids(const Label* labels, std::size_t rows, std::size_t classes,
                          std::string_view input) noexcept {
  for (std::size_t b = 0; b < rows; ++b)
    if (labels[b] < 0 || static_cast<unsigned long long>(labels[b]) >= classes)
      return {run_error::kind::label_range, input, b, static_cast<long long>(labels[b]), classes};
  return {};
}

// The name of a labels operand, when it is a symbol.
template <class L>
constexpr std::string_view name_of_labels() {
  if constexpr (requires { L::name.view(); })
    return L::name.view();
  else
    return "(computed labels)";
}

}  // namespace detail

// In words, e.g. "input \"Y\": class id 12 in row 3 is outside [0, 10)".
inline std::string to_string(const run_error& e) {
  const std::string name = "input \"" + std::string(e.input) + "\"";
  switch (e.what) {
    case run_error::kind::binding_size:
      return name + ": the value bound has " + std::to_string(e.value) + " elements, the input has " +
             std::to_string(e.limit) + " (a std::span of the input's size is needed)";
    case run_error::kind::label_range:
      return name + ": class id " + std::to_string(e.value) + " in row " + std::to_string(e.row) +
             " is outside [0, " + std::to_string(e.limit) + ")";
    case run_error::kind::stale_weight:
      return "param \"" + std::string(e.input) +
             "\" changed since the program's last call through a reference or pointer kept from before it, "
             "which the store cannot see (the program keeps a transposed copy of it since pack_weights()): "
             "call params.mark_changed() after such writes (or program.pack_weights(params)), or take the "
             "reference again";
    case run_error::kind::none:
      break;
  }
  return "no error";
}

}  // namespace tapeless
