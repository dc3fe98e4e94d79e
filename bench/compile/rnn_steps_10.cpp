// The RNN workload over 10 steps (see rnn_training.hpp).
#include <cstddef>
constexpr std::size_t steps = 10;
#include "rnn_training.hpp"
