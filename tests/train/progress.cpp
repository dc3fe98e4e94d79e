#define BOOST_TEST_MODULE train_progress
#include <boost/test/unit_test.hpp>

#include <tapeless/train/csv_log.hpp>
#include <tapeless/train/progress.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "train/temp_dir.hpp"

namespace tt = tapeless::train;

namespace {

struct manual_clock {
  using rep = long long;
  using period = std::milli;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<manual_clock>;
  static constexpr bool is_steady = true;
  static inline time_point current{};
  static time_point now() noexcept { return current; }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

tt::epoch_metrics some_metrics(std::size_t epoch) {
  tt::epoch_metrics m;
  m.epoch = epoch;
  m.train_loss = 0.5;
  m.val_loss = 0.25;
  m.val_accuracy = 0.9;
  m.seconds = 1.5;
  m.samples_per_second = 2000;
  return m;
}

}  // namespace

BOOST_AUTO_TEST_CASE(progress_writes_plain_lines_when_not_a_terminal) {
  std::ostringstream log;  // not a terminal: the automatic style picks lines
  tt::progress_display progress(log);
  BOOST_TEST(!progress.draws_bar());
  BOOST_TEST(!tt::is_terminal(log));
  for (std::size_t epoch = 1; epoch <= 2; ++epoch) {
    progress.begin_epoch(epoch, 2, 100);
    for (std::size_t done = 10; done <= 100; done += 10) progress.update(done, 0.5);
    progress.end_epoch(some_metrics(epoch));
  }
  BOOST_TEST(log.str() ==
             "epoch 1/2  train_loss 0.5000  val_loss 0.2500  val_accuracy 0.9000  1.50 s  2000 samples/s\n"
             "epoch 2/2  train_loss 0.5000  val_loss 0.2500  val_accuracy 0.9000  1.50 s  2000 samples/s\n");
}

BOOST_AUTO_TEST_CASE(progress_bar_redraws_one_line_with_percent_rate_and_eta) {
  manual_clock::current = manual_clock::time_point{};
  std::ostringstream screen;
  tt::progress_display<manual_clock> progress(screen, tt::progress_style::bar);
  BOOST_TEST(progress.draws_bar());
  progress.begin_epoch(3, 10, 1000);
  BOOST_TEST(contains(screen.str(), "\repoch 3/10 ["));
  BOOST_TEST(contains(screen.str(), "  0%"));
  screen.str("");
  manual_clock::current += std::chrono::seconds(1);
  progress.update(500, 0.4321);
  const std::string half = screen.str();
  BOOST_TEST(half.front() == '\r');
  BOOST_TEST(contains(half, "[============>...........]"));
  BOOST_TEST(contains(half, " 50%"));
  BOOST_TEST(contains(half, "500 samples/s"));
  BOOST_TEST(contains(half, "ETA 0:01"));
  BOOST_TEST(contains(half, "loss 0.4321"));
  BOOST_TEST(!contains(half, "\n"));  // the same line, redrawn
  screen.str("");
  manual_clock::current += std::chrono::seconds(1);
  progress.update(1000, 0.4);
  progress.end_epoch(some_metrics(3));
  const std::string end = screen.str();
  BOOST_TEST(contains(end, "100%"));
  BOOST_TEST(contains(end, "\repoch 3/10  train_loss 0.5000"));
  BOOST_TEST(std::count(end.begin(), end.end(), '\n') == 1);
  BOOST_TEST(end.back() == '\n');
}

BOOST_AUTO_TEST_CASE(progress_bar_throttles_redraws_but_always_draws_the_end) {
  manual_clock::current = manual_clock::time_point{};
  std::ostringstream screen;
  tt::progress_display<manual_clock> progress(screen, tt::progress_style::bar, std::chrono::milliseconds(100));
  progress.begin_epoch(1, 1, 100);
  screen.str("");
  manual_clock::current += std::chrono::milliseconds(50);
  progress.update(10);
  BOOST_TEST(screen.str().empty());  // too soon after the last draw
  progress.update(100);
  BOOST_TEST(contains(screen.str(), "100%"));  // the end is drawn however soon
}

BOOST_AUTO_TEST_CASE(progress_bar_blanks_out_a_longer_previous_line) {
  manual_clock::current = manual_clock::time_point{};
  std::ostringstream screen;
  tt::progress_display<manual_clock> progress(screen, tt::progress_style::bar, std::chrono::milliseconds(0));
  progress.begin_epoch(1, 1, 100);
  manual_clock::current += std::chrono::seconds(1);
  progress.update(50, 123.456);  // with a loss: longer
  const std::size_t long_line = screen.str().size() - screen.str().rfind('\r');
  screen.str("");
  manual_clock::current += std::chrono::seconds(1);
  progress.update(60);  // without: shorter text, padded with spaces
  BOOST_TEST(screen.str().size() >= long_line);
  BOOST_TEST(screen.str().back() == ' ');
}

BOOST_AUTO_TEST_CASE(csv_log_writes_a_header_and_one_row_per_epoch) {
  tapeless_test::temp_dir dir;
  const auto path = dir / "metrics.csv";
  {
    tt::csv_log log(path);
    auto first = some_metrics(1);
    first.train_accuracy = 0.75;
    first.learning_rate = 0.01;
    log.write(first);
    // Flushed row by row: a run cut short keeps what it wrote.
    BOOST_TEST(read(path) == "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds\n"
                             "1,0.5,0.75,0.25,0.9,0.01,1.5\n");
    tt::epoch_metrics second;  // nothing measured but the time
    second.epoch = 2;
    second.seconds = 0.1;
    log.write(second);
  }
  BOOST_TEST(read(path) == "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds\n"
                           "1,0.5,0.75,0.25,0.9,0.01,1.5\n"
                           "2,,,,,,0.1\n");
  {
    tt::csv_log resumed(path, /*append*/ true);
    resumed.write(some_metrics(3));
  }
  const std::string text = read(path);
  BOOST_TEST(std::count(text.begin(), text.end(), '\n') == 4);  // one header, three rows
  BOOST_TEST(contains(text, "\n3,0.5,,0.25,0.9,,1.5\n"));
  {
    tt::csv_log fresh(path);  // without append: starts over
  }
  BOOST_TEST(read(path) == std::string(tt::csv_log::header) + "\n");
}

BOOST_AUTO_TEST_CASE(csv_log_names_a_file_it_cannot_write) {
  tapeless_test::temp_dir dir;
  const auto path = dir / "missing-directory" / "metrics.csv";
  try {
    tt::csv_log log(path);
    BOOST_FAIL("no exception");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(contains(e.what(), path.string()));
  }
}

BOOST_AUTO_TEST_CASE(a_nan_loss_shows_as_nan_and_a_value_not_measured_stays_out) {
  // 0/0 as x86 computes it: the sign bit set, which to_chars would write "-nan".
  volatile double zero = 0;
  const double diverged = zero / zero;
  auto m = some_metrics(1);
  m.train_loss = diverged;
  m.val_loss = std::numeric_limits<double>::infinity();
  m.val_accuracy = tt::not_measured;
  std::ostringstream lines;
  tt::progress_display progress(lines);
  progress.begin_epoch(1, 1, 10);
  progress.end_epoch(m);
  BOOST_TEST(lines.str() == "epoch 1/1  train_loss nan  val_loss inf  1.50 s  2000 samples/s\n");

  std::ostringstream screen;
  tt::progress_display bar(screen, tt::progress_style::bar);
  bar.begin_epoch(1, 1, 10);
  bar.update(10, diverged);
  BOOST_TEST(contains(screen.str(), "loss nan"));

  tapeless_test::temp_dir dir;
  {
    tt::csv_log log(dir / "m.csv");
    log.write(m);
  }
  BOOST_TEST(read(dir / "m.csv") == std::string(tt::csv_log::header) + "\n1,nan,,inf,,,1.5\n");
  BOOST_TEST(!tt::is_measured(tt::not_measured));
  BOOST_TEST(tt::is_measured(std::numeric_limits<double>::quiet_NaN()));
  BOOST_TEST(tt::is_measured(diverged));
}
