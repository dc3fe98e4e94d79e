#pragma once
// A fresh directory under the system's temporary directory for one test's
// fixture files, removed with everything in it when the test ends.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>

#include <unistd.h>

namespace tapeless_test {

class temp_dir {
 public:
  temp_dir() {
    static std::uint64_t counter = 0;
    const auto base = std::filesystem::temp_directory_path();
    for (;;) {
      path_ = base / ("tapeless-train-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
      if (std::filesystem::create_directory(path_)) break;  // false: taken, try the next name
    }
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

  // Writes `bytes` to the file `name` and returns its path.
  std::filesystem::path write(std::string_view name, std::span<const unsigned char> bytes) const {
    const auto file = path_ / name;
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return file;
  }
  std::filesystem::path write(std::string_view name, std::string_view text) const {
    return write(name, std::span(reinterpret_cast<const unsigned char*>(text.data()), text.size()));
  }

 private:
  std::filesystem::path path_;
};

}  // namespace tapeless_test
