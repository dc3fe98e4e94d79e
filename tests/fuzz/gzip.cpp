// libFuzzer target: gzip bytes through gunzip (with a limit) and the
// incremental gzip IDX reader. Every input must end in a value or a
// tl::train::data_error; memory stays bounded (libFuzzer's -rss_limit_mb).
#include <tapeless/train/gzip.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace tt = tapeless::train;
  const std::span<const unsigned char> bytes(data, size);
  try {
    (void)tt::gunzip(bytes, "fuzz", std::size_t{1} << 24);
  } catch (const tt::data_error&) {
  }
  try {
    (void)tt::parse_idx_gz(bytes, "fuzz");
  } catch (const tt::data_error&) {
  }
  return 0;
}
