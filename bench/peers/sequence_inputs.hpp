#pragma once
// The sequence workloads of the side-by-side suite, made in memory by each
// program alike (nothing to read from the data directory):
//
//   w6_lstm_train_b64  the sequence classifier's training step
//                      (examples/sequence_classifier.cpp): images read as 28
//                      steps of 28 features by an LSTM of hidden size 128,
//                      its last output to 10 classes, softmax cross-entropy,
//                      Adam (lr 2e-3), batch 64; call i steps on batch i mod 8.
//   stream_gru8, stream_gru16, stream_lstm16, stream_lstm32
//                      one sample (one feature) through a recurrent layer
//                      whose state the program keeps: an audio callback's
//                      call; call i feeds sample (i mod 1024) / 1000.
//
// Weights in PyTorch's parameter order and layout, value k (counted over the
// whole model, from 1) = scale * sin(1.3 k); images uniform in [0, 1) and
// labels from one linear congruential stream: the two programs compute the
// same losses and outputs, which the suite's check compares.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tapeless::bench::peers::w6 {

inline constexpr std::size_t batch = 64, steps = 28, features = 28, hidden = 128, classes = 10, batches = 8;
inline constexpr float lr = 2e-3f;  // Adam, torch.optim.Adam's other defaults
inline constexpr float weight_scale = 0.08f;  // about torch's 1 / sqrt(hidden)

// The next value of weight number k (from 1) of a model.
inline float weight_value(std::size_t k, float scale = weight_scale) {
  return scale * std::sin(1.3f * float(k));
}

struct sequence_data {
  std::vector<float> x;            // [batches * batch, steps, features]
  std::vector<std::int32_t> y;     // [batches * batch]
  sequence_data() : x(batches * batch * steps * features), y(batches * batch) {
    std::uint64_t state = 20261205;
    const auto next = [&] {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      return std::uint32_t(state >> 33);
    };
    for (float& v : x) v = float(next() & 0xffffff) / 16777216.0f;
    for (auto& v : y) v = std::int32_t(next() % classes);
  }
};

// The streaming layers: hidden size and the input of call i.
inline constexpr float stream_weight_scale = 0.3f;
inline float stream_sample(std::uint64_t i) { return float(i & 1023) * 1e-3f; }

}  // namespace tapeless::bench::peers::w6
