#pragma once
// Reading a file that is known to be a regular file, for the readers of the
// train and io layers. A FIFO would block a reader forever and /dev/zero
// never ends: both are refused before a byte is read. The size is the open
// file's (fstat), so a file renamed over the path meanwhile cannot pair one
// file's size with another's bytes. POSIX.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tapeless::detail {

class regular_file {
 public:
  // Opens `path` for reading; on failure the file is not open and problem()
  // says why, without the path ("no such file", "it is a FIFO (named pipe),
  // not a regular file", ...).
  explicit regular_file(const std::filesystem::path& path) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd_ < 0) {
      problem_ = open_problem(path, errno);
      return;
    }
    struct stat st{};
    if (::fstat(fd_, &st) != 0) {
      problem_ = std::strerror(errno);
      close();
      return;
    }
    if (!S_ISREG(st.st_mode)) {
      problem_ = "it is " + kind_of(st.st_mode) + ", not a regular file";
      close();
      return;
    }
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  regular_file(const regular_file&) = delete;
  regular_file& operator=(const regular_file&) = delete;
  ~regular_file() { close(); }

  bool is_open() const noexcept { return fd_ >= 0; }
  const std::string& problem() const noexcept { return problem_; }
  // Bytes in the file when it was opened.
  std::uint64_t size() const noexcept { return size_; }

  // Reads `count` bytes at `offset`; false on an error or if the file ends
  // first (it shrank), with errno set by the failing call (0 for an end).
  bool read_at(std::uint64_t offset, void* into, std::size_t count) const noexcept {
    auto* out = static_cast<unsigned char*>(into);
    while (count > 0) {
      const ::ssize_t got = ::pread(fd_, out, count, static_cast<::off_t>(offset));
      if (got < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      if (got == 0) {
        errno = 0;
        return false;
      }
      out += got;
      offset += static_cast<std::uint64_t>(got);
      count -= static_cast<std::size_t>(got);
    }
    return true;
  }

 private:
  void close() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  static std::string kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a file";
  }

  // Why `path` cannot be opened, with a hint where one helps.
  static std::string open_problem(const std::filesystem::path& path, int error_number) {
    if (error_number == ENOENT) {
      std::string message = "no such file";
      if (path.is_relative()) {
        // A relative path is the usual cause: say where it was looked for.
        std::error_code ec;
        const auto here = std::filesystem::current_path(ec);
        if (!ec) message += " (relative paths are resolved from the working directory, " + here.string() + ")";
      }
      return message;
    }
    return std::strerror(error_number);
  }

  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::string problem_;
};

}  // namespace tapeless::detail
