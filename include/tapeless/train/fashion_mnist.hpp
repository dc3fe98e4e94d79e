#pragma once
// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 28x28 grey images of clothing
// in 10 classes, 60000 for training and 10000 for testing, as the data sets
// a classifier's train layer reads. Needs zlib (see gzip.hpp).
//
//   auto train = tl::train::load_fashion_mnist(tl::train::fashion_mnist_split::train);
//   auto test  = tl::train::load_fashion_mnist(tl::train::fashion_mnist_split::test, dir);
//
// or, as a classifier is trained, validated and tested, in batches of 64:
//
//   tl::train::fashion_mnist_batches<64> data(dir);  // data.train, data.validation, data.test
//
// The files are {train,t10k}-{images-idx3,labels-idx1}-ubyte, gzip-compressed
// or not; by default they are read where Debian's dataset-fashion-mnist
// package installs them.

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <tapeless/train/batch_loader.hpp>
#include <tapeless/train/data_error.hpp>
#include <tapeless/train/dataset.hpp>
#include <tapeless/train/gzip.hpp>
#include <tapeless/train/idx.hpp>
#include <tapeless/train/split.hpp>

namespace tapeless::train {

enum class fashion_mnist_split { train, test };

inline constexpr std::size_t fashion_mnist_pixels = 28 * 28;
inline constexpr std::size_t fashion_mnist_classes = 10;
inline constexpr std::array<std::string_view, fashion_mnist_classes> fashion_mnist_class_names{
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

// Where Debian's dataset-fashion-mnist package puts the files.
inline const std::filesystem::path& fashion_mnist_debian_directory() {
  static const std::filesystem::path directory = "/usr/share/datasets/fashion-mnist";
  return directory;
}

namespace detail {
// The file `stem` in `directory`, compressed or not, whichever exists.
inline std::filesystem::path fashion_mnist_file(const std::filesystem::path& directory, std::string_view stem) {
  const auto plain = directory / stem;
  auto compressed = plain;
  compressed += ".gz";
  std::error_code ec;
  if (std::filesystem::exists(compressed, ec)) return compressed;
  if (std::filesystem::exists(plain, ec)) return plain;
  throw data_error(compressed.string(),
                   "cannot open: no such file (nor " + plain.filename().string() +
                       "); on Debian, `apt install dataset-fashion-mnist` puts the files in " +
                       fashion_mnist_debian_directory().string() +
                       ", or pass the directory that holds them");
}
}  // namespace detail

// One split as a data set of 784 floats in [0, 1] per image and class ids 0-9.
inline dataset<fashion_mnist_pixels> load_fashion_mnist(
    fashion_mnist_split split, const std::filesystem::path& directory = fashion_mnist_debian_directory()) {
  const std::string_view prefix = split == fashion_mnist_split::train ? "train" : "t10k";
  const auto images = read_idx_gz(detail::fashion_mnist_file(directory, std::string(prefix) + "-images-idx3-ubyte"));
  const auto labels = read_idx_gz(detail::fashion_mnist_file(directory, std::string(prefix) + "-labels-idx1-ubyte"));
  auto data = idx_classification<fashion_mnist_pixels>(images, labels, fashion_mnist_classes);
  data.set_class_names({fashion_mnist_class_names.begin(), fashion_mnist_class_names.end()});
  return data;
}

struct fashion_mnist_batches_options {
  // Training images held out for validation, chosen at random from split_seed.
  std::size_t validation_images = 5000;
  std::uint64_t split_seed = 7;
  // The order of the training batches, epoch by epoch.
  std::uint64_t shuffle_seed = 42;
};

// What a Fashion-MNIST classifier is trained, validated and tested with, in
// batches of B: the training images split into training and validation
// (seeded), and the test set; training batches shuffled each epoch,
// evaluation batches in order with the last one padded (batch.valid rows).
// It owns the data sets its loaders read in place, so it is built where it
// is used and is neither copied nor moved.
template <std::size_t B>
struct fashion_mnist_batches {
  explicit fashion_mnist_batches(const std::filesystem::path& directory = fashion_mnist_debian_directory(),
                                 fashion_mnist_batches_options options = {})
      : train_data(load_fashion_mnist(fashion_mnist_split::train, directory)),
        test_data(load_fashion_mnist(fashion_mnist_split::test, directory)),
        split(held_out(train_data.size(), options)),
        train(training_batches<B>(train_data, split.train, options.shuffle_seed)),
        validation(evaluation_batches<B>(train_data, split.validation)),
        test(evaluation_batches<B>(test_data)) {}
  fashion_mnist_batches(const fashion_mnist_batches&) = delete;
  fashion_mnist_batches& operator=(const fashion_mnist_batches&) = delete;

  dataset<fashion_mnist_pixels> train_data, test_data;
  index_split split;  // rows of train_data: split.train and split.validation
  batch_loader<B, fashion_mnist_pixels> train, validation, test;

 private:
  static index_split held_out(std::size_t images, const fashion_mnist_batches_options& options) {
    if (options.validation_images == 0 || options.validation_images >= images)
      throw std::invalid_argument("tl::train::fashion_mnist_batches: validation_images is " +
                                  std::to_string(options.validation_images) + "; it must leave both sets some of the " +
                                  std::to_string(images) + " training images");
    return validation_split(images, static_cast<double>(options.validation_images) / static_cast<double>(images),
                            options.split_seed);
  }
};

}  // namespace tapeless::train
