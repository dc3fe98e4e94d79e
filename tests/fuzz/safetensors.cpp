// libFuzzer target: bytes as a safetensors file, loaded into a small store
// (strictly and with allow_unused) and read for metadata. Every input must
// end in a load or a tl::io::error, and a failed load must leave the store
// as it was.
#include <tapeless/io/safetensors.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include <unistd.h>

namespace {

namespace tl = tapeless;
using store = tl::parameter_store<tl::inline_storage, tl::parameter_entry<"w", float, tl::shape<2, 3>>,
                                  tl::parameter_entry<"b", double, tl::shape<3>>,
                                  tl::parameter_entry<"n", std::int64_t, tl::shape<>>>;

// One file per fuzzing process, rewritten for each input: load reads paths.
// In memory (/dev/shm) where there is one: a disk makes fuzzing slow.
const std::string& scratch_file() {
  static const std::string path = [] {
    std::error_code ec;
    const std::filesystem::path directory =
        std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : std::filesystem::temp_directory_path();
    return (directory / ("tapeless_fuzz_safetensors_" + std::to_string(::getpid()))).string();
  }();
  static const struct remove_at_exit {
    ~remove_at_exit() { std::remove(path.c_str()); }
  } cleanup;
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = scratch_file();
  if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
    if (size) std::fwrite(data, 1, size, f);
    std::fclose(f);
  } else {
    std::abort();
  }
  for (const bool allow_unused : {false, true}) {
    store s;
    s.get<"w">().fill(7.f);
    try {
      tl::io::load(s, path, {.allow_unused = allow_unused});
    } catch (const tl::io::error&) {
      for (const float v : s.get<"w">())
        if (v != 7.f) std::abort();  // a failed load wrote to the store
    }
  }
  try {
    (void)tl::io::read_metadata(path);
  } catch (const tl::io::error&) {
  }
  return 0;
}
