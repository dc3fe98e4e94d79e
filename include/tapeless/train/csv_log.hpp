#pragma once
// A CSV file of per-epoch metrics, one row per epoch, flushed as it is
// written so that a run cut short keeps what it measured.
//
//   tl::train::csv_log log("metrics.csv");
//   log.write(metrics);      // epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds
//
// Numbers are written in the shortest form that reads back to the same
// double; a value not measured (not_measured) is an empty cell, a measured
// NaN (a diverged loss) is "nan", infinities "inf" and "-inf".

#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <tapeless/train/metrics.hpp>

namespace tapeless::train {

class csv_log {
 public:
  static constexpr const char* header = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds";

  // Creates (or truncates) `path` and writes the header. With append, rows
  // go after what the file holds (a resumed run), and the header only into a
  // new or empty file.
  explicit csv_log(const std::filesystem::path& path, bool append = false) : path_(path) {
    std::error_code ec;
    const bool has_rows = append && std::filesystem::file_size(path, ec) > 0 && !ec;
    errno = 0;
    out_.open(path, append ? std::ios::app : std::ios::trunc);
    if (!out_)
      throw std::runtime_error("tl::train::csv_log: cannot write " + path.string() + ": " +
                               (errno ? std::strerror(errno) : "open failed"));
    if (!has_rows) out_ << header << '\n' << std::flush;
  }

  void write(const epoch_metrics& m) {
    out_ << m.epoch;
    for (const double value : {m.train_loss, m.train_accuracy, m.val_loss, m.val_accuracy, m.learning_rate, m.seconds}) {
      out_ << ',';
      if (!is_measured(value)) continue;
      if (std::isnan(value)) {  // to_chars writes "-nan" for the NaN x86 arithmetic makes
        out_ << "nan";
        continue;
      }
      char text[32];
      const auto result = std::to_chars(text, text + sizeof text, value);
      out_.write(text, result.ptr - text);
    }
    out_ << '\n' << std::flush;
    if (!out_) throw std::runtime_error("tl::train::csv_log: writing " + path_.string() + " failed");
  }

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

}  // namespace tapeless::train
