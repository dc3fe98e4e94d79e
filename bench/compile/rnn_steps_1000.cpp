// The RNN workload over 1000 steps (see rnn_training.hpp).
#include <cstddef>
constexpr std::size_t steps = 1000;
#include "rnn_training.hpp"
