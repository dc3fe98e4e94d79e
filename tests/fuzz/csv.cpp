// libFuzzer target: CSV text through the reader, with the options the first
// byte picks. Every input must end in a data set or a tl::train::data_error.
#include <tapeless/train/csv.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace tt = tapeless::train;
  if (size == 0) return 0;
  const unsigned pick = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  tt::csv_options options;
  options.header = pick & 1 ? tt::csv_header::absent : (pick & 2 ? tt::csv_header::present : tt::csv_header::required);
  options.delimiter = pick & 4 ? ';' : ',';
  options.label_column = pick & 8 ? 0 : -1;
  options.text_labels = (pick & 16) != 0;
  options.classes = pick & 32 ? 3 : 0;
  if (pick & 64 && !(pick & 1)) options.label_name = "y";
  try {
    if (pick & 128)
      (void)tt::parse_csv<2, float>(text, "fuzz", {.header = options.header, .delimiter = options.delimiter});
    else
      (void)tt::parse_csv<2>(text, "fuzz", options);
  } catch (const tt::data_error&) {
  }
  return 0;
}
