#define BOOST_TEST_MODULE train_no_allocation
#include <boost/test/unit_test.hpp>

#include <tapeless/train/batch_loader.hpp>
#include <tapeless/train/metrics.hpp>
#include <tapeless/train/progress.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <ostream>
#include <streambuf>
#include <vector>

// Every allocation in this program goes through these, and is counted.
namespace {
std::size_t allocations = 0;

void* counted_allocation(std::size_t size, std::size_t alignment) {
  ++allocations;
  if (size == 0) size = 1;
  void* p = alignment > alignof(std::max_align_t)
                ? std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment)
                : std::malloc(size);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t size) { return counted_allocation(size, 0); }
void* operator new[](std::size_t size) { return counted_allocation(size, 0); }
void* operator new(std::size_t size, std::align_val_t a) { return counted_allocation(size, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t size, std::align_val_t a) { return counted_allocation(size, static_cast<std::size_t>(a)); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_allocation(size, 0);
  } catch (...) {
    return nullptr;
  }
}
// The operator new above allocates with malloc or aligned_alloc, whose release
// is free; g++ 12 at -O1 inlines a delete into code whose new it takes for the
// standard one and warns of a mismatch (-Wmismatched-new-delete) that is not there.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace tl = tapeless;
namespace tt = tapeless::train;

namespace {

tt::dataset<784> images(std::size_t n) {
  std::vector<float> features(n * 784);
  std::vector<std::int32_t> labels(n);
  for (std::size_t i = 0; i < features.size(); ++i) features[i] = static_cast<float>(i % 255) / 255.f;
  for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<std::int32_t>(i % 10);
  return tt::dataset<784>(std::move(features), std::move(labels));
}

// A stream that discards what it is given, without allocating.
struct null_buffer : std::streambuf {
  std::size_t written = 0;
  std::streamsize xsputn(const char*, std::streamsize n) override {
    written += static_cast<std::size_t>(n);
    return n;
  }
  int overflow(int c) override {
    ++written;
    return c;
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(the_allocation_counter_counts) {
  const std::size_t before = allocations;
  std::vector<int> v(100);
  BOOST_TEST(allocations == before + 1);
  auto p = std::make_unique<tl::tensor<float, 16, 16>>();  // over-aligned: the aligned form
  BOOST_TEST(allocations == before + 2);
}

BOOST_AUTO_TEST_CASE(filling_a_batch_does_not_allocate) {
  const auto data = images(1000);
  auto train = tt::training_batches<64>(data, 42);                           // wrap, shuffled
  auto val = tt::evaluation_batches<64>(data);                               // pad
  auto drop = tt::training_batches<64>(data, 42, tt::last_batch::drop);     // drop
  const std::size_t before = allocations;
  std::size_t rows = 0;
  for (std::size_t epoch = 0; epoch < 3; ++epoch) {
    for (const auto& b : train.epoch(epoch)) rows += b.fresh;
    for (const auto& b : val.epoch(epoch)) rows += b.valid;
    drop.start_epoch(epoch);
    while (const auto* b = drop.next()) rows += b->fresh;
  }
  BOOST_TEST(allocations == before);
  BOOST_TEST(rows == 3u * (1000 + 1000 + 960));  // the batches were filled
}

BOOST_AUTO_TEST_CASE(metrics_and_progress_do_not_allocate) {
  const auto data = images(100);
  auto val = tt::evaluation_batches<32>(data);
  tl::tensor<float, 32, 10> logits{};
  null_buffer sink;
  std::ostream out(&sink);
  tt::progress_display progress(out, tt::progress_style::bar, std::chrono::milliseconds(0));
  tt::classification_meter meter;
  tt::epoch_timer<> timer;
  const std::size_t before = allocations;
  progress.begin_epoch(1, 1, val.rows_per_epoch());
  for (const auto& b : val.epoch(0)) {
    meter.add(logits, b);
    timer.add(32);
    progress.update(timer.samples(), meter.loss());
  }
  tt::epoch_metrics m;
  m.epoch = 1;
  m.val_loss = meter.loss();
  progress.end_epoch(m);
  BOOST_TEST(allocations == before);
  BOOST_TEST(meter.count() == 100u);
  BOOST_TEST(sink.written > 0u);
}
