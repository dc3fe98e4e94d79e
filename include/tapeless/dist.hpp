#pragma once
// tl::dist: data-parallel training over MPI (docs/distributed.md). Needs MPI;
// tapeless.hpp does not include it.

#include <tapeless/dist/communicator.hpp>
#include <tapeless/dist/data_parallel.hpp>
#include <tapeless/dist/root_only.hpp>
#include <tapeless/dist/training_batches.hpp>
