#pragma once
// The io layer: parameter stores to and from safetensors files, and
// checkpoints of a whole training state.

#include <tapeless/io/checkpoint.hpp>
#include <tapeless/io/error.hpp>
#include <tapeless/io/safetensors.hpp>
