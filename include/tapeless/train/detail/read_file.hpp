#pragma once
// Whole-file reads for the data readers, with the errors a user can act on.
// Only regular files are read (a FIFO or /dev/zero is refused at once, see
// core/detail/regular_file.hpp), and the buffer is the file's size as it was
// opened: never more than the file holds.

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <tapeless/core/detail/regular_file.hpp>
#include <tapeless/train/data_error.hpp>

namespace tapeless::train::detail {

// A regular file open for reading; throws data_error naming it if it is not one.
inline void check_open(const tapeless::detail::regular_file& file, const std::filesystem::path& path) {
  if (!file.is_open()) throw data_error(path.string(), "cannot read: " + file.problem());
}

// `count` bytes of `file` from `offset`; throws data_error naming `path`.
inline void read_exactly(const tapeless::detail::regular_file& file, const std::filesystem::path& path,
                         std::uint64_t offset, void* into, std::size_t count) {
  if (!file.read_at(offset, into, count))
    throw data_error(path.string(), errno ? "read failed: " + std::string(std::strerror(errno))
                                          : "read failed: the file became shorter while it was read");
}

// The bytes of a file; throws data_error if it cannot be read.
inline std::vector<unsigned char> read_file_bytes(const std::filesystem::path& path) {
  const tapeless::detail::regular_file file(path);
  check_open(file, path);
  if (file.size() > std::numeric_limits<std::size_t>::max())
    throw data_error(path.string(), "too large to read into memory (" + std::to_string(file.size()) + " bytes)");
  std::vector<unsigned char> bytes(static_cast<std::size_t>(file.size()));
  read_exactly(file, path, 0, bytes.data(), bytes.size());
  return bytes;
}

}  // namespace tapeless::train::detail
