#pragma once
// The JSON header of a safetensors file, both ways: a strict reader of the
// header grammar alone (an object of tensor records and an optional
// "__metadata__" object of strings), the check that the records describe the
// data section exactly, and the quoting the writer needs. No general JSON:
// anything outside this grammar is an error, so a corrupt file is caught here
// rather than half-loaded.

#include <tapeless/io/detail/dtype.hpp>
#include <tapeless/io/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tapeless::io::detail {

// The reference implementation refuses longer headers; a larger length field
// means a corrupt file, and reading it would allocate that much.
inline constexpr std::uint64_t max_header_bytes = 100'000'000;

// One tensor as the header describes it; begin and end count from the first
// byte after the header.
struct tensor_record {
  std::string name;
  std::string dtype;
  std::vector<std::uint64_t> shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

struct header_contents {
  std::vector<tensor_record> tensors;  // in the file's order
  std::map<std::string, std::string> metadata;
};

// "[8, 4]", "[]" for a scalar; with separator "," the compact JSON the writer uses.
template <class Dims>
std::string shape_text(const Dims& dims, std::string_view separator = ", ") {
  std::string text = "[";
  for (std::size_t i = 0; i < std::size(dims); ++i) {
    if (i) text += separator;
    text += std::to_string(dims[i]);
  }
  return text + "]";
}

// s as a JSON string literal: quotes, backslashes and control characters escaped.
inline std::string json_quoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      constexpr char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Where s stops being UTF-8 (overlong forms and surrogates included), or npos.
inline std::size_t first_non_utf8(std::string_view s) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = byte(i);
    std::size_t extra = 0;
    std::uint32_t code = 0, least = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, code = c & 0x1F, least = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, code = c & 0x0F, least = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, code = c & 0x07, least = 0x10000;
    } else {
      return i;
    }
    for (std::size_t k = 1; k <= extra; ++k) {
      if (i + k >= s.size() || (byte(i + k) & 0xC0) != 0x80) return i;
      code = (code << 6) | (byte(i + k) & 0x3F);
    }
    if (code < least || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return i;
    i += extra + 1;
  }
  return std::string_view::npos;
}

class header_parser {
 public:
  // where: the start of every message, e.g. `tapeless::io::load: "m.safetensors": `.
  header_parser(std::string_view text, std::string where) : text_(text), where_(std::move(where)) {}

  header_contents parse() {
    check_utf8();
    header_contents header;
    std::set<std::string, std::less<>> names;
    bool has_metadata = false;
    skip_space();
    members([&](std::string key) {
      if (key == "__metadata__") {
        if (has_metadata) content_error("\"__metadata__\" appears twice");
        has_metadata = true;
        header.metadata = metadata();
      } else {
        if (!names.insert(key).second)
          content_error("tensor " + json_quoted(key) + " appears twice");
        header.tensors.push_back(tensor(std::move(key)));
      }
    });
    skip_space();  // the writer may pad the header with spaces
    if (pos_ != text_.size()) syntax_error("text after the closing '}'");
    return header;
  }

 private:
  [[noreturn]] void syntax_error(const std::string& what) const {
    throw error(where_ + "malformed header (at header byte " + std::to_string(pos_) + "): " + what);
  }
  [[noreturn]] void content_error(const std::string& what) const {
    throw error(where_ + "header: " + what);
  }

  // The reference implementation requires UTF-8, and so do names compared with ours.
  void check_utf8() {
    const std::size_t bad = first_non_utf8(text_);
    if (bad != std::string_view::npos) {
      pos_ = bad;
      syntax_error("not UTF-8");
    }
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool consume(char c) {
    if (!at(c)) return false;
    ++pos_;
    return true;
  }
  void expect(char c, const char* what) {
    if (!consume(c)) syntax_error(std::string("expected ") + what);
  }

  // { "key": value, ... } where member(key) reads each value.
  template <class Member>
  void members(Member&& member) {
    expect('{', "'{'");
    skip_space();
    if (consume('}')) return;
    for (;;) {
      skip_space();
      std::string key = string();
      skip_space();
      expect(':', "':'");
      skip_space();
      member(std::move(key));
      skip_space();
      if (consume(',')) continue;
      expect('}', "',' or '}'");
      return;
    }
  }

  std::uint32_t hex4() {
    std::uint32_t unit = 0;
    for (int k = 0; k < 4; ++k, ++pos_) {
      if (pos_ >= text_.size()) syntax_error("unterminated \\u escape");
      const char h = text_[pos_];
      const int digit = h >= '0' && h <= '9'   ? h - '0'
                        : h >= 'a' && h <= 'f' ? h - 'a' + 10
                        : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                               : -1;
      if (digit < 0) syntax_error("bad hex digit in a \\u escape");
      unit = unit * 16 + static_cast<std::uint32_t>(digit);
    }
    return unit;
  }

  static void append_utf8(std::string& out, std::uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  std::string string() {
    expect('"', "a string");
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) syntax_error("unterminated string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) syntax_error("control character inside a string");
      ++pos_;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) syntax_error("unterminated string");
      const char e = text_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t code = hex4();
          if (code >= 0xDC00 && code <= 0xDFFF) syntax_error("lone low surrogate in a \\u escape");
          if (code >= 0xD800 && code <= 0xDBFF) {
            if (!consume('\\') || !consume('u'))
              syntax_error("high surrogate without its low half");
            const std::uint32_t low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) syntax_error("high surrogate without its low half");
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, code);
          break;
        }
        default:
          --pos_;
          syntax_error("unknown escape in a string");
      }
    }
  }

  // Shapes and offsets: JSON integers >= 0 that fit 64 bits; no sign, fraction or exponent.
  std::uint64_t unsigned_integer() {
    if (at('-')) syntax_error("expected a non-negative integer, found a negative number");
    if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9')
      syntax_error("expected a non-negative integer");
    const std::size_t first = pos_;
    std::uint64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const auto digit = static_cast<std::uint64_t>(text_[pos_] - '0');
      if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
        syntax_error("integer does not fit in 64 bits");
      value = value * 10 + digit;
      ++pos_;
    }
    if (text_[first] == '0' && pos_ - first > 1) {
      pos_ = first;
      syntax_error("integer with a leading zero");
    }
    if (at('.') || at('e') || at('E'))
      syntax_error("expected an integer, found a fraction or exponent");
    return value;
  }

  std::vector<std::uint64_t> integer_array() {
    expect('[', "'['");
    std::vector<std::uint64_t> values;
    skip_space();
    if (consume(']')) return values;
    for (;;) {
      skip_space();
      values.push_back(unsigned_integer());
      skip_space();
      if (consume(',')) continue;
      expect(']', "',' or ']'");
      return values;
    }
  }

  tensor_record tensor(std::string name) {
    tensor_record record;
    record.name = std::move(name);
    bool has_dtype = false, has_shape = false, has_offsets = false;
    const std::string who = "tensor " + json_quoted(record.name);
    const auto once = [&](bool& seen, const char* field) {
      if (seen) content_error(who + ": \"" + field + "\" appears twice");
      seen = true;
    };
    members([&](std::string field) {
      if (field == "dtype") {
        once(has_dtype, "dtype");
        record.dtype = string();
      } else if (field == "shape") {
        once(has_shape, "shape");
        record.shape = integer_array();
      } else if (field == "data_offsets") {
        once(has_offsets, "data_offsets");
        const std::size_t start = pos_;
        const std::vector<std::uint64_t> offsets = integer_array();
        if (offsets.size() != 2) {
          pos_ = start;
          syntax_error(who + ": \"data_offsets\" must be [begin, end]");
        }
        record.begin = offsets[0];
        record.end = offsets[1];
      } else {
        content_error(who + ": unknown field " + json_quoted(field) +
                      " (a tensor has \"dtype\", \"shape\" and \"data_offsets\")");
      }
    });
    if (!has_dtype) content_error(who + " has no \"dtype\"");
    if (!has_shape) content_error(who + " has no \"shape\"");
    if (!has_offsets) content_error(who + " has no \"data_offsets\"");
    return record;
  }

  std::map<std::string, std::string> metadata() {
    std::map<std::string, std::string> values;
    members([&](std::string key) {
      if (!at('"')) syntax_error("\"__metadata__\" values must be strings");
      if (!values.emplace(key, string()).second)
        content_error("\"__metadata__\" key " + json_quoted(key) + " appears twice");
    });
    return values;
  }

  std::string_view text_;
  std::string where_;
  std::size_t pos_ = 0;
};

// Checks that each record's byte range holds exactly its dtype and shape, lies
// inside the data_bytes that follow the header, and that the ranges tile the
// data with no overlap and no gap (as the reference implementation requires).
inline void check_layout(const header_contents& header, std::uint64_t data_bytes,
                         const std::string& where) {
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  for (const tensor_record& t : header.tensors) {
    const std::string who = "tensor " + json_quoted(t.name);
    const std::size_t element_bytes = dtype_size(t.dtype);
    if (element_bytes == 0)
      throw error(where + who + " has dtype " + json_quoted(t.dtype) +
                  ", which this reader cannot size (known: BOOL, U8, I8, F8_E5M2, F8_E4M3, "
                  "F8_E8M0, I16, U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64)");
    std::uint64_t bytes = element_bytes;
    for (const std::uint64_t d : t.shape) {
      if (d != 0 && bytes > max / d)
        throw error(where + who + ": shape " + shape_text(t.shape) + " is too large to address");
      bytes *= d;
    }
    if (t.begin > t.end)
      throw error(where + who + ": data_offsets [" + std::to_string(t.begin) + ", " +
                  std::to_string(t.end) + "] end before they begin");
    if (t.end - t.begin != bytes)
      throw error(where + who + ": shape " + shape_text(t.shape) + " of " + t.dtype + " needs " +
                  std::to_string(bytes) + " bytes, but data_offsets [" + std::to_string(t.begin) +
                  ", " + std::to_string(t.end) + "] hold " + std::to_string(t.end - t.begin));
    if (t.end > data_bytes)
      throw error(
          where + who + " occupies data bytes [" + std::to_string(t.begin) + ", " +
          std::to_string(t.end) + ") but only " + std::to_string(data_bytes) +
          " bytes of data follow the header: the file is truncated or its offsets are wrong");
  }

  std::vector<std::size_t> order(header.tensors.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const tensor_record &x = header.tensors[a], &y = header.tensors[b];
    return std::pair{x.begin, x.end} < std::pair{y.begin, y.end};
  });
  std::uint64_t covered = 0;
  const tensor_record* previous = nullptr;
  for (const std::size_t i : order) {
    const tensor_record& t = header.tensors[i];
    if (t.begin < covered)
      throw error(where + "tensors " + json_quoted(previous->name) + " (data bytes [" +
                  std::to_string(previous->begin) + ", " + std::to_string(previous->end) +
                  ")) and " + json_quoted(t.name) + " ([" + std::to_string(t.begin) + ", " +
                  std::to_string(t.end) + ")) overlap");
    if (t.begin > covered)
      throw error(where + "data bytes [" + std::to_string(covered) + ", " +
                  std::to_string(t.begin) + ") belong to no tensor");
    covered = t.end;
    previous = &t;
  }
  if (covered != data_bytes)
    throw error(where + "data bytes [" + std::to_string(covered) + ", " +
                std::to_string(data_bytes) + ") after the last tensor belong to no tensor");
}

}  // namespace tapeless::io::detail
