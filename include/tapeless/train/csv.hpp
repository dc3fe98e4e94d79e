#pragma once
// CSV data sets: numeric feature columns and one label column.
//
//   // iris.csv: sepal_length,sepal_width,petal_length,petal_width,species
//   auto iris = tl::train::read_csv<4>("iris.csv", {.label_name = "species", .text_labels = true, .classes = 3});
//   iris.class_names()                 // {"setosa", "versicolor", "virginica"}: ids 0, 1, 2
//
//   auto houses = tl::train::read_csv<8, float>("houses.csv", {.label_column = 0});  // regression
//   auto plain = tl::train::read_csv<2>("plain.csv", {.header = tl::train::csv_header::absent, .classes = 10});
//
// Every column but the label is a feature, so a file has F + 1 columns. The
// header rule is explicit: by default the first row must be a header (a row
// of numbers there is an error, not silently dropped); a file without one is
// read with .header = csv_header::absent. A file with no data row is an
// error. With .classes = C, every class id must be in [0, C) (the data set
// declares them, see dataset::declare_classes). Numbers too small for the
// target type read as 0 or a subnormal; too large ones are errors. Cells may be quoted ("a,b"; a quoted cell does
// not span lines), padded with spaces; blank lines are skipped; \n and \r\n
// both end a line. Decimal points are '.', whatever the locale. Errors name the line
// and column (both counted from 1, as editors and spreadsheets do).

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <vector>

#include <tapeless/train/data_error.hpp>
#include <tapeless/train/dataset.hpp>
#include <tapeless/train/detail/read_file.hpp>

namespace tapeless::train {

enum class csv_header {
  required,  // the first row is a header, and one of its cells is not a number
  present,   // the first row is a header, whatever it holds
  absent,    // every row is data
};

struct csv_options {
  csv_header header = csv_header::required;
  char delimiter = ',';
  // The label's column, from 0; negative counts from the end (-1: the last).
  int label_column = -1;
  // If not empty, the label is the column of this name in the header (which
  // must then be there); label_column is ignored.
  std::string label_name{};
  // Labels are class names ("setosa"), numbered 0, 1, ... in order of first
  // appearance; dataset::class_names() holds them. Only for std::int32_t targets.
  bool text_labels = false;
  // Class ids must be in [0, classes) (text labels: at most this many names);
  // 0 leaves them unchecked here, for a later dataset::declare_classes.
  std::size_t classes = 0;
};

namespace detail {

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Splits one line into cells, unquoting "..." (with "" for a quote).
// Returns false on an unterminated quote. `cells` is reused between lines.
inline bool split_csv_line(std::string_view line, char delimiter, std::vector<std::string>& cells,
                           std::size_t& count) {
  count = 0;
  std::size_t i = 0;
  for (;;) {
    if (cells.size() == count) cells.emplace_back();
    std::string& cell = cells[count++];
    cell.clear();
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return false;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cell += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cell += line[i++];
      }
      while (i < line.size() && line[i] != delimiter) ++i;  // spaces after the closing quote
    } else {
      const std::size_t start = i;
      while (i < line.size() && line[i] != delimiter) ++i;
      cell.assign(trim(line.substr(start, i - start)));
    }
    if (i >= line.size()) return true;
    ++i;  // the delimiter
  }
}

// A finite number, the whole cell; leading '+' allowed. A number too small
// for T is 0 or a subnormal (1e-50 as a float), as strtof gives it.
template <class T>
bool parse_number(std::string_view cell, T& value) noexcept {
  if (!cell.empty() && cell.front() == '+') cell.remove_prefix(1);
  if (cell.empty()) return false;
  const char* const last = cell.data() + cell.size();
  auto [end, ec] = std::from_chars(cell.data(), last, value);
  if constexpr (std::is_floating_point_v<T>) {
    if (ec == std::errc::result_out_of_range && end == last) {
      // Out of T's range: underflow rounds toward 0, overflow is not finite.
      long double wide = 0;
      const auto [wide_end, wide_ec] = std::from_chars(cell.data(), last, wide);
      if (wide_ec == std::errc{} && wide_end == last) {
        value = static_cast<T>(wide);
      } else {
        // Beyond long double too: the exponent's sign, or an integer part of
        // zeros, says which way.
        const std::size_t e = cell.find_first_of("eE");
        const bool tiny = e != std::string_view::npos
                              ? cell.substr(e + 1).starts_with('-')
                              : cell.find_first_not_of("-0") == std::string_view::npos ||
                                    cell[cell.find_first_not_of("-0")] == '.';
        if (!tiny) return false;
        value = cell.front() == '-' ? -T(0) : T(0);
      }
      ec = std::errc{};
    }
  }
  if (ec != std::errc{} || end != last) return false;
  if constexpr (std::is_floating_point_v<T>) return std::isfinite(value);
  return true;
}

// "nan", "inf", "-infinity", ...: numbers, if not finite ones.
inline bool is_non_finite(std::string_view cell) noexcept {
  double value = 0;
  if (!cell.empty() && (cell.front() == '+' || cell.front() == '-')) cell.remove_prefix(1);
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  return ec == std::errc{} && end == cell.data() + cell.size() && !std::isfinite(value);
}

inline std::string quoted_cell(std::string_view cell) {
  constexpr std::size_t shown = 24;
  if (cell.size() > shown) return "'" + std::string(cell.substr(0, shown)) + "...'";
  return "'" + std::string(cell) + "'";
}

}  // namespace detail

// Parses CSV text; `source` names it in errors.
template <std::size_t F, class Target = std::int32_t>
dataset<F, Target> parse_csv(std::string_view text, std::string source, const csv_options& options = {}) {
  constexpr bool integer_labels = std::is_same_v<Target, std::int32_t>;
  if (options.text_labels && !integer_labels)
    throw std::invalid_argument("tl::train::read_csv: text_labels needs std::int32_t targets (class ids)");
  const auto fail = [&](std::size_t line, std::string problem) -> void {
    throw data_error(source, "line " + std::to_string(line) + ": " + problem);
  };
  const auto fail_cell = [&](std::size_t line, std::size_t column, std::string problem) -> void {
    throw data_error(source, "line " + std::to_string(line) + ", column " + std::to_string(column + 1) + ": " + problem);
  };

  dataset<F, Target> data;
  data.set_source(source);
  std::vector<std::string> cells;
  std::size_t count = 0;
  std::vector<float> row(F);
  std::map<std::string, std::int32_t, std::less<>> class_ids;
  std::vector<std::string> class_names;
  std::size_t columns = 0, label = 0;
  bool first = true;

  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // the UTF-8 mark spreadsheets write
  std::size_t line_number = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t newline = text.find('\n', pos);
    const std::size_t end = newline == std::string_view::npos ? text.size() : newline;
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (detail::trim(line).empty()) continue;
    if (!detail::split_csv_line(line, options.delimiter, cells, count))
      fail(line_number, "a quoted cell is not closed (\" missing)");

    if (first) {
      first = false;
      columns = count;
      if (!options.label_name.empty()) {
        if (options.header == csv_header::absent)
          throw std::invalid_argument("tl::train::read_csv: label_name needs a header row; header is absent");
        std::size_t found = count;
        for (std::size_t c = 0; c < count; ++c)
          if (cells[c] == options.label_name) found = c;
        if (found == count) {
          std::string names;
          for (std::size_t c = 0; c < count; ++c) {
            if (c) names += ", ";
            names += detail::quoted_cell(cells[c]);
          }
          fail(line_number, "no column named '" + options.label_name + "' in the header (" + names + ")");
        }
        label = found;
      } else {
        const long index = options.label_column < 0 ? static_cast<long>(count) + options.label_column
                                                    : static_cast<long>(options.label_column);
        if (index < 0 || index >= static_cast<long>(count))
          fail(line_number, "label_column " + std::to_string(options.label_column) + " is outside the " +
                                std::to_string(count) + " columns");
        label = static_cast<std::size_t>(index);
      }
      if (count != F + 1)
        fail(line_number, std::to_string(count) + " columns; a data set of F = " + std::to_string(F) +
                              " features reads F + 1 (the features and the label)");
      bool header = options.header != csv_header::absent;
      if (options.header == csv_header::required) {
        // A name is text: empty cells and "nan" are data that failed, not names.
        bool has_name = false;
        for (std::size_t c = 0; c < count && !has_name; ++c) {
          if ((c == label && options.text_labels) || cells[c].empty()) continue;
          double ignored;
          has_name = !detail::parse_number(cells[c], ignored) && !detail::is_non_finite(cells[c]);
        }
        if (!has_name)
          fail(line_number, "a header row is required and this first row holds only numbers; if the file has "
                            "no header, pass .header = tl::train::csv_header::absent (or csv_header::present "
                            "if these numbers are the column names)");
      }
      if (header) continue;
    }

    if (count != columns)
      fail(line_number, std::to_string(count) + " columns, the first row has " + std::to_string(columns));
    std::size_t f = 0;
    for (std::size_t c = 0; c < count; ++c) {
      if (c == label) continue;
      if (!detail::parse_number(cells[c], row[f++]))
        fail_cell(line_number, c, cells[c].empty() ? "empty cell, a number was expected"
                                                    : detail::quoted_cell(cells[c]) + " is not a finite number");
    }
    const std::string& cell = cells[label];
    Target target{};
    if constexpr (integer_labels) {
      if (options.text_labels) {
        if (cell.empty()) fail_cell(line_number, label, "empty label");
        auto it = class_ids.find(cell);
        if (it == class_ids.end()) {
          it = class_ids.emplace(cell, static_cast<std::int32_t>(class_names.size())).first;
          class_names.push_back(cell);
        }
        target = it->second;
        if (options.classes && static_cast<std::size_t>(target) >= options.classes)
          fail_cell(line_number, label, "label " + detail::quoted_cell(cell) + " is a class name beyond the " +
                                            std::to_string(options.classes) + " classes declared (.classes)");
      } else {
        double as_double = 0;
        if (!detail::parse_number(cell, target)) {
          // "3.0", as pandas writes integer columns with missing values.
          if (!detail::parse_number(cell, as_double) || as_double != std::floor(as_double) ||
              std::abs(as_double) > 2147483647.0)
            fail_cell(line_number, label, "label " + detail::quoted_cell(cell) +
                                              " is not an integer class id (for class names, set text_labels)");
          target = static_cast<std::int32_t>(as_double);
        }
        const auto where = [&] {
          return "line " + std::to_string(line_number) + ", column " + std::to_string(label + 1) + " (data row " +
                 std::to_string(data.size()) + ")";
        };
        if (options.classes && (target < 0 || static_cast<std::size_t>(target) >= options.classes))
          throw data_error(source, detail::class_id_out_of_range(where(), target, options.classes));
        if (target < 0) throw data_error(source, where() + ": class id " + std::to_string(target) + " is negative");
      }
    } else {
      if (!detail::parse_number(cell, target))
        fail_cell(line_number, label, cell.empty() ? "empty label, a number was expected"
                                                   : "label " + detail::quoted_cell(cell) + " is not a finite number");
    }
    data.push_back(std::span<const float, F>(row.data(), F), target);
  }
  if (data.empty())
    throw data_error(source, first ? "empty: no rows, a data set needs at least one"
                                   : "no data rows after the header, a data set needs at least one");
  if (options.text_labels) data.set_class_names(std::move(class_names));
  if constexpr (integer_labels) data.declare_classes(options.classes);
  return data;
}

// Reads a CSV file; see parse_csv.
template <std::size_t F, class Target = std::int32_t>
dataset<F, Target> read_csv(const std::filesystem::path& path, const csv_options& options = {}) {
  const auto bytes = detail::read_file_bytes(path);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.empty()) throw data_error(path.string(), "empty: the file holds no bytes");
  return parse_csv<F, Target>(text, path.string(), options);
}

}  // namespace tapeless::train
