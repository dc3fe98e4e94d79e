#pragma once
// Replacing a file so that whoever opens its path sees the old contents or
// the new ones, whole, never a mix or a part: the bytes go to a temporary of
// a unique name in the target's directory (created with O_EXCL | O_NOFOLLOW,
// so it is never someone else's file nor a symlink's target), are flushed to
// the disk (fsync), and the temporary is renamed over the target, the one
// atomic step; then the directory is flushed so the new name survives a crash.
// A save that fails removes its temporary, and only its own: a file of any
// other name, "model.safetensors.tmp" included, is never touched. POSIX.

#include <tapeless/io/error.hpp>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tapeless::io::detail {

class atomic_file {
 public:
  // `where` starts every error message ("tapeless::io::save: "path": ").
  atomic_file(const std::filesystem::path& target, std::string where) : target_(target), where_(std::move(where)) {
    const std::filesystem::path directory = target.has_parent_path() ? target.parent_path() : ".";
    directory_ = directory;
    // A name no other save picks: the process, the thread, the time and an
    // attempt number; O_EXCL makes sure, and a clash tries the next name.
    const std::uint64_t seed =
        (static_cast<std::uint64_t>(::getpid()) << 32) ^ std::hash<std::thread::id>{}(std::this_thread::get_id()) ^
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    for (std::uint64_t attempt = 0; attempt < 100; ++attempt) {
      char suffix[40];
      std::snprintf(suffix, sizeof suffix, ".tmp-%016llx",
                    static_cast<unsigned long long>(mix(seed + attempt * 0x9e3779b97f4a7c15ull)));
      std::string name = target.filename().string();  // appended, not "." + name: GCC 12 warns on that (-Wrestrict)
      name.insert(name.begin(), '.');
      name += suffix;
      temporary_ = directory / name;
      fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
      if (fd_ >= 0) break;
      if (errno != EEXIST) throw error(where_ + "cannot create a temporary file in \"" + directory.string() + "\"" + cause());
    }
    if (fd_ < 0) throw error(where_ + "cannot find a free temporary name in \"" + directory.string() + "\"");
    struct stat st{};
    if (::fstat(fd_, &st) == 0) {
      device_ = st.st_dev;
      inode_ = st.st_ino;
    }
  }
  atomic_file(const atomic_file&) = delete;
  atomic_file& operator=(const atomic_file&) = delete;

  // Not committed: the temporary goes, if it is still the file this object
  // created (nobody renamed another file to its name meanwhile).
  ~atomic_file() {
    if (fd_ >= 0) ::close(fd_);
    if (committed_) return;
    struct stat st{};
    if (::lstat(temporary_.c_str(), &st) == 0 && st.st_dev == device_ && st.st_ino == inode_)
      ::unlink(temporary_.c_str());
  }

  void write(const void* data, std::size_t count) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    while (count > 0) {
      const ::ssize_t written = ::write(fd_, bytes, count);
      if (written < 0) {
        if (errno == EINTR) continue;
        throw error(where_ + "writing \"" + temporary_.string() + "\" failed" + cause());
      }
      bytes += written;
      count -= static_cast<std::size_t>(written);
    }
  }

  // Flushes the bytes, renames the temporary over the target and flushes
  // the directory. After a throw the target is as it was.
  void commit() {
    if (::fsync(fd_) != 0) throw error(where_ + "flushing \"" + temporary_.string() + "\" to disk failed" + cause());
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw error(where_ + "writing \"" + temporary_.string() + "\" failed" + cause());
    if (::rename(temporary_.c_str(), target_.c_str()) != 0)
      throw error(where_ + "cannot rename \"" + temporary_.string() + "\" to the target" + cause());
    committed_ = true;
    // The rename is done; a directory that cannot be flushed (some file
    // systems refuse) leaves it done, only less sure to survive a crash.
    const int dir = ::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }

  const std::filesystem::path& temporary() const noexcept { return temporary_; }

 private:
  static std::string cause() {
    const int code = errno;
    return code ? ": " + std::generic_category().message(code) : std::string{};
  }
  // splitmix64's finalizer: spreads the seed's bits over the name.
  static constexpr std::uint64_t mix(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  std::filesystem::path target_, directory_, temporary_;
  std::string where_;
  int fd_ = -1;
  dev_t device_{};
  ino_t inode_{};
  bool committed_ = false;
};

}  // namespace tapeless::io::detail
