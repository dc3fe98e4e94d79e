#pragma once
// The train layer: data sets (IDX, CSV), seeded splits and shuffles, static
// mini-batches, metrics, early stopping, progress display, metric logs, and a
// small fit driver.
//
// Not included here, because they need zlib (link -lz / Meson dependency('zlib')):
//   <tapeless/train/gzip.hpp>           gzip-compressed files (read_idx_gz)
//   <tapeless/train/fashion_mnist.hpp>  Fashion-MNIST, from Debian's dataset-fashion-mnist

#include <tapeless/train/batch.hpp>
#include <tapeless/train/batch_loader.hpp>
#include <tapeless/train/csv.hpp>
#include <tapeless/train/csv_log.hpp>
#include <tapeless/train/data_error.hpp>
#include <tapeless/train/dataset.hpp>
#include <tapeless/train/early_stopping.hpp>
#include <tapeless/train/fit.hpp>
#include <tapeless/train/idx.hpp>
#include <tapeless/train/metrics.hpp>
#include <tapeless/train/progress.hpp>
#include <tapeless/train/shuffle.hpp>
#include <tapeless/train/split.hpp>
