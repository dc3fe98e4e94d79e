#pragma once
// A static mini-batch: the input tensors of a program compiled for batch size
// B, plus what a training loop must know about the rows in them.
//
//   tl::train::batch<64, 784> b;     // b.features: tl::tensor<float, 64, 784>
//                                    // b.targets:  tl::tensor<std::int32_t, 64>
//   program.step(params, X = b.features, Y = b.targets);
//
// A batch is always full: B rows are always there for the program to read.
// How the last, partial batch of an epoch is completed is the last_batch
// policy of the loader that fills it; `valid` and `fresh` say what came of it.

#include <cstddef>
#include <cstdint>

#include <tapeless/core/tensor.hpp>

namespace tapeless::train {

// What a loader does with the N mod B samples left for the last batch of an
// epoch (nothing, when B divides N).
enum class last_batch {
  // Training. The batch is completed with the first samples of this epoch's
  // order, so every batch is B real samples drawn as the others are, and every
  // sample is seen at least once per epoch. valid = B; fresh = N mod B.
  wrap,
  // Evaluation. The batch is completed with copies of real rows (from the start
  // of the epoch's order, so the program sees ordinary data), and valid = the
  // number of real rows: metrics read rows [0, valid) and count each of the N
  // samples exactly once.
  pad,
  // The last partial batch is left out: floor(N / B) full batches, N mod B
  // samples unseen that epoch (different ones each epoch when shuffled).
  drop,
};

template <std::size_t B, std::size_t F, class Target = std::int32_t>
struct batch {
  static_assert(B > 0, "tl::train::batch<B, F, Target>: the batch size B must be at least 1");

  static constexpr std::size_t rows = B;
  static constexpr std::size_t width = F;
  using target_type = Target;

  tensor<float, B, F> features;
  tensor<Target, B> targets;
  // Rows [0, valid) count in metrics; the rest pad (last_batch::pad only).
  std::size_t valid = 0;
  // Rows holding samples seen for the first time this epoch; below B only in
  // the last batch of an epoch under last_batch::wrap or pad.
  std::size_t fresh = 0;
  // Position of the batch in its epoch, from 0, and the epoch.
  std::size_t index = 0;
  std::size_t epoch = 0;
};

// 1 for the batch's valid rows, 0 for the rows that pad it: the row weights
// of tl::cross_entropy(logits, labels, row_weights), so that a padded batch's
// loss and gradients are those of its valid rows alone.
//
//   constexpr auto M = tl::input<"M", float, 64>;
//   auto trainer = tl::compile(tl::cross_entropy(logits, Y, M));
//   trainer.step(params, X = b.features, Y = b.targets, M = tl::train::valid_row_mask(b));
template <std::size_t B, std::size_t F, class Target>
tensor<float, B> valid_row_mask(const batch<B, F, Target>& b) noexcept {
  tensor<float, B> mask;
  for (std::size_t r = 0; r < B; ++r) mask[r] = r < b.valid ? 1.f : 0.f;
  return mask;
}

}  // namespace tapeless::train
