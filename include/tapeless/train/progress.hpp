#pragma once
// Progress of training, written to a std::ostream the user chooses.
//
//   tl::train::progress_display progress(std::cerr);
//   progress.begin_epoch(epoch, epochs, loader.rows_per_epoch());
//   ... progress.update(rows_done, running_loss);     // after each batch
//   progress.end_epoch(metrics);                       // an epoch_metrics
//
// On a terminal, one line redrawn in place with \r:
//   epoch 3/10 [=========>..............]  41%  52311 samples/s  ETA 0:03  loss 0.4312
// elsewhere (a file, a pipe, a CI log) one plain line per epoch, so logs stay
// readable:
//   epoch 3/10  train_loss 0.4312  val_loss 0.4518  val_accuracy 0.8391  2.41 s  49870 samples/s
// Lines are formatted into a buffer on the stack: updating allocates nothing.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <iostream>
#include <ostream>

#if defined(_WIN32)
#include <io.h>
#else
#include <unistd.h>
#endif

#include <tapeless/train/metrics.hpp>

namespace tapeless::train {

enum class progress_style {
  automatic,  // bar on a terminal, lines elsewhere
  bar,
  lines,
};

// Does `out` reach a terminal? True for std::cout, std::cerr and std::clog
// when their file descriptor is one; false for any other stream.
inline bool is_terminal(const std::ostream& out) {
  int fd = -1;
  if (out.rdbuf() == std::cout.rdbuf())
    fd = 1;
  else if (out.rdbuf() == std::cerr.rdbuf() || out.rdbuf() == std::clog.rdbuf())
    fd = 2;
  if (fd < 0) return false;
#if defined(_WIN32)
  return _isatty(fd) != 0;
#else
  return ::isatty(fd) != 0;
#endif
}

namespace detail {

// printf into a fixed buffer, truncating at its end.
class line_buffer {
 public:
  template <class... Args>
  void append(const char* format, Args... args) noexcept {
    if (length_ >= capacity - 1) return;
    int written = 0;
    // A format without arguments goes through "%s": a '%' in it is then text,
    // and clang's -Wformat-security has no non-literal format to warn about.
    if constexpr (sizeof...(Args) == 0)
      written = std::snprintf(text_ + length_, capacity - length_, "%s", format);
    else
      written = std::snprintf(text_ + length_, capacity - length_, format, args...);
    if (written > 0) length_ = std::min(length_ + static_cast<std::size_t>(written), capacity - 1);
  }
  void pad_to(std::size_t width) noexcept {
    while (length_ < width && length_ < capacity - 1) text_[length_++] = ' ';
    text_[length_] = '\0';
  }
  const char* data() const noexcept { return text_; }
  std::size_t size() const noexcept { return length_; }

 private:
  static constexpr std::size_t capacity = 512;
  char text_[capacity] = {};
  std::size_t length_ = 0;
};

// m:ss, or h:mm:ss from an hour.
inline void append_duration(line_buffer& line, double seconds) noexcept {
  const auto total = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  if (total >= 3600)
    line.append("%lld:%02lld:%02lld", total / 3600, total / 60 % 60, total % 60);
  else
    line.append("%lld:%02lld", total / 60, total % 60);
}

inline void append_epoch(line_buffer& line, std::size_t epoch, std::size_t epochs) noexcept {
  if (epochs)
    line.append("epoch %zu/%zu", epoch, epochs);
  else
    line.append("epoch %zu", epoch);
}

// A value not measured is left out; a measured NaN or infinity is shown as
// "nan" or "inf" (a diverged loss must be seen).
inline void append_metric(line_buffer& line, const char* name, double value) noexcept {
  if (!is_measured(value)) return;
  if (std::isnan(value))
    line.append("  %s nan", name);
  else
    line.append("  %s %.4f", name, value);
}

}  // namespace detail

template <class Clock = std::chrono::steady_clock>
class progress_display {
 public:
  // The bar is redrawn at most once per redraw_interval (and at the end).
  explicit progress_display(std::ostream& out, progress_style style = progress_style::automatic,
                            std::chrono::milliseconds redraw_interval = std::chrono::milliseconds(100))
      : out_(&out),
        bar_(style == progress_style::bar || (style == progress_style::automatic && is_terminal(out))),
        interval_(redraw_interval) {}

  // True when drawing the one-line bar, false when writing plain lines.
  bool draws_bar() const noexcept { return bar_; }

  // Starts epoch `epoch` of `epochs` (0: unknown) with `total` rows to go.
  void begin_epoch(std::size_t epoch, std::size_t epochs, std::size_t total) {
    epoch_ = epoch;
    epochs_ = epochs;
    total_ = total;
    done_ = 0;
    loss_ = not_measured;
    start_ = Clock::now();
    last_draw_ = start_;
    if (bar_) draw();
  }

  // `done` of the epoch's rows are through, with `loss` the running mean loss.
  void update(std::size_t done, double loss = not_measured) {
    done_ = done;
    loss_ = loss;
    if (!bar_) return;
    const auto now = Clock::now();
    if (done_ < total_ && now - last_draw_ < interval_) return;
    last_draw_ = now;
    draw();
  }

  // Ends the epoch with its record: on a terminal the bar gives way to it.
  void end_epoch(const epoch_metrics& m) {
    detail::line_buffer line;
    if (bar_) line.append("\r");
    detail::append_epoch(line, m.epoch, epochs_);
    detail::append_metric(line, "train_loss", m.train_loss);
    detail::append_metric(line, "train_accuracy", m.train_accuracy);
    detail::append_metric(line, "val_loss", m.val_loss);
    detail::append_metric(line, "val_accuracy", m.val_accuracy);
    if (is_measured(m.learning_rate)) {
      if (std::isnan(m.learning_rate))
        line.append("  lr nan");
      else
        line.append("  lr %g", m.learning_rate);
    }
    if (is_measured(m.seconds)) line.append("  %.2f s", m.seconds);
    if (is_measured(m.samples_per_second)) line.append("  %.0f samples/s", m.samples_per_second);
    if (bar_) line.pad_to(last_width_);  // blank out what is left of the bar
    line.append("\n");
    out_->write(line.data(), static_cast<std::streamsize>(line.size()));
    out_->flush();
    last_width_ = 0;
  }

 private:
  void draw() {
    constexpr std::size_t width = 24;
    const double fraction = total_ ? std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_)) : 1.0;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : not_measured;

    detail::line_buffer line;
    line.append("\r");
    detail::append_epoch(line, epoch_, epochs_);
    char bar[width + 1];
    const auto filled = static_cast<std::size_t>(fraction * width);
    for (std::size_t i = 0; i < width; ++i) bar[i] = i < filled ? '=' : i == filled ? '>' : '.';
    bar[width] = '\0';
    line.append(" [%s] %3d%%", bar, static_cast<int>(fraction * 100));
    if (std::isnan(rate) || done_ == 0) {
      line.append("  - samples/s  ETA -:--");
    } else {
      line.append("  %.0f samples/s  ETA ", rate);
      detail::append_duration(line, static_cast<double>(total_ - std::min(done_, total_)) / rate);
    }
    detail::append_metric(line, "loss", loss_);
    const std::size_t width_now = line.size();
    line.pad_to(last_width_);  // a shorter line must cover the longer one before it
    last_width_ = width_now;
    out_->write(line.data(), static_cast<std::streamsize>(line.size()));
    out_->flush();
  }

  std::ostream* out_;
  bool bar_;
  std::chrono::milliseconds interval_;
  std::size_t epoch_ = 0, epochs_ = 0, total_ = 0, done_ = 0;
  double loss_ = not_measured;
  typename Clock::time_point start_{}, last_draw_{};
  std::size_t last_width_ = 0;
};

}  // namespace tapeless::train
