#pragma once
// Whole-file reads for the data readers, with the errors a user can act on.

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include <tapeless/train/data_error.hpp>

namespace tapeless::train::detail {

// Why `path` cannot be opened, with a hint where one helps.
inline std::string open_failure(const std::filesystem::path& path, int error_number) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::string message = "cannot open: no such file";
    if (path.is_relative()) {
      // A relative path is the usual cause: say where it was looked for.
      const auto here = std::filesystem::current_path(ec);
      if (!ec) message += " (relative paths are resolved from the working directory, " + here.string() + ")";
    }
    return message;
  }
  if (std::filesystem::is_directory(path, ec)) return "cannot open: it is a directory, not a file";
  return std::string("cannot open: ") + std::strerror(error_number);
}

// The bytes of a file; throws data_error if it cannot be read.
inline std::vector<unsigned char> read_file_bytes(const std::filesystem::path& path) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path)) throw data_error(path.string(), open_failure(path, errno));
  std::vector<unsigned char> bytes;
  std::error_code ec;
  if (const auto size = std::filesystem::file_size(path, ec); !ec) bytes.reserve(size);
  char chunk[1 << 16];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    bytes.insert(bytes.end(), chunk, chunk + in.gcount());
  }
  if (in.bad()) throw data_error(path.string(), "read failed: " + std::string(std::strerror(errno)));
  return bytes;
}

}  // namespace tapeless::train::detail
