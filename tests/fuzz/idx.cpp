// libFuzzer target: IDX bytes through the plain reader and into a data set.
// Every input must end in a value or a tl::train::data_error, nothing else.
#include <tapeless/train/idx.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace tt = tapeless::train;
  try {
    const auto images = tt::parse_idx(std::span<const unsigned char>(data, size), "fuzz");
    (void)images.item_size();
    // The same bytes as labels of themselves: checks counts, rank and class ids.
    (void)tt::idx_classification<4>(images, images, 10);
  } catch (const tt::data_error&) {
  }
  return 0;
}
