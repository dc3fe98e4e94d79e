#pragma once
// The io layer: parameter stores to and from safetensors files.

#include <tapeless/io/error.hpp>
#include <tapeless/io/safetensors.hpp>
