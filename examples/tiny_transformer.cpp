// A tiny causal transformer trained to predict the next character of a text:
// token and learned position embeddings, a pre-norm transformer block (causal
// multi-head attention, exact GELU; torch.nn.TransformerEncoderLayer's names),
// a final layer norm and a linear head to the 128 ASCII codes. Trained with
// AdamW on random windows of the first 90% of the text (an epoch: as many
// windows as cover it four times); the validation loss is measured on the last
// 10% after every epoch; at the end a forward-only program at batch 1 writes a
// sample after a prompt, one character at a time, drawn from the softmax at
// temperature 0.7 with a fixed seed.
//
// One block, not two: a second block adds 53 kernels to the training
// program (72 -> 125) and half again the compile time (about 19 s with g++
// -O2 against 12 s; bench/results/compile_cost.md).
//
//   ./build/examples/tiny_transformer [text file] [epochs]
//
// The default text is the GPL version 3 that every Debian system has
// (base-files). Characters outside ASCII read as '?'.

// The parts of tapeless this file uses, not <tapeless/tapeless.hpp>, whose
// data sets, files and logs (train, io, with <filesystem>) take about 1.8 s
// more to compile here (bench/results/compile_cost.md).
#include <tapeless/compile.hpp>
#include <tapeless/expr.hpp>
#include <tapeless/nn.hpp>
#include <tapeless/optim.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace tl = tapeless;

constexpr std::size_t batch_size = 32, context = 64, vocabulary = 128, width = 64, heads = 4, hidden = 128;
constexpr tl::nn::attention_options causal{.causal = true};

// The model over a batch of id windows [Batch, context]: logits [Batch * context, vocabulary].
template <std::size_t Batch, class Ids>
constexpr auto transformer(const Ids& ids) {
  const auto tokens = tl::nn::embedding<"tok", vocabulary, width>(ids) + tl::param<"pos.weight", float, context, width>;
  const auto blocks = tl::nn::transformer_encoder_layer<"blocks.0", heads, hidden, causal>(tokens);
  return tl::nn::linear<"head", vocabulary>(tl::reshape<Batch * context, width>(tl::nn::layer_norm<"norm">(blocks)));
}

constexpr auto ids = tl::input<"ids", std::int32_t, batch_size, context>;
constexpr auto next = tl::input<"next", std::int32_t, batch_size * context>;  // each position's following character
constexpr auto loss = tl::cross_entropy(transformer<batch_size>(ids), next);
constexpr auto prompt = tl::input<"prompt", std::int32_t, 1, context>;
constexpr auto prompt_logits = transformer<1>(prompt);

std::vector<std::int32_t> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<std::int32_t> codes;
  for (auto it = std::istreambuf_iterator<char>(in); it != std::istreambuf_iterator<char>(); ++it) {
    const auto c = static_cast<unsigned char>(*it);
    codes.push_back(c < vocabulary ? c : '?');
  }
  if (codes.size() < 20 * (context + 1)) throw std::runtime_error(path + " is too short to train on");
  return codes;
}

// Window w of a batch: text[start, start + context) as ids, each next character as target.
template <class Ids, class Next>
void fill_window(const std::vector<std::int32_t>& text, std::size_t start, std::size_t w, Ids& x, Next& y) {
  for (std::size_t t = 0; t < context; ++t) {
    x(w, t) = text[start + t];
    y[w * context + t] = text[start + t + 1];
  }
}

int main(int argc, char** argv) try {
  const std::string path = argc > 1 ? argv[1] : "/usr/share/common-licenses/GPL-3";
  const std::size_t epochs = argc > 2 ? std::stoul(argv[2]) : 10;
  const auto text = read_text(path);
  const std::size_t split = text.size() * 9 / 10;
  const std::vector<std::int32_t> train(text.begin(), text.begin() + split), validation(text.begin() + split, text.end());

  auto program = tl::compile(loss);
  auto sampler = tl::compile(prompt_logits);
  auto params = tl::parameters_of(loss);
  tl::init::xavier_uniform(params, /*seed*/ 1);
  auto opt = tl::optim::optimizer(params, tl::optim::adamw{.lr = 3e-3f, .weight_decay = 0.01f});
  const tl::optim::cosine_annealing schedule{.t_max = epochs};

  std::printf("model: %zu-character windows, 1 causal block of width %zu (%zu heads, feed-forward %zu); "
              "%zu parameters; training program: %zu kernels, %zu KiB of buffers\n",
              context, width, heads, hidden, decltype(params)::scalar_count,
              decltype(program)::training_kernels, decltype(program)::arena_bytes / 1024);
  std::printf("text: %s, %zu characters (%zu to train on, %zu to validate)\n", path.c_str(), text.size(),
              train.size(), validation.size());

  tl::tensor<std::int32_t, batch_size, context> x;
  tl::tensor<std::int32_t, batch_size * context> y;
  tl::random_stream rng{42};
  const std::size_t steps_per_epoch = 4 * train.size() / (batch_size * context);
  for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
    const auto started = std::chrono::steady_clock::now();
    double train_loss = 0;
    for (std::size_t s = 0; s < steps_per_epoch; ++s) {
      for (std::size_t w = 0; w < batch_size; ++w)
        fill_window(train, static_cast<std::size_t>(rng.next() % (train.size() - context - 1)), w, x, y);
      train_loss += program.step(params, ids = x, next = y);
      opt.step(params);
    }
    // Validation: windows every context / 2 characters, in whole batches.
    double val_loss = 0;
    std::size_t val_batches = 0;
    const std::size_t windows = (validation.size() - context - 1) / (context / 2) + 1;
    for (std::size_t first = 0; first + batch_size <= windows; first += batch_size, ++val_batches) {
      for (std::size_t w = 0; w < batch_size; ++w) fill_window(validation, (first + w) * (context / 2), w, x, y);
      val_loss += program(params, ids = x, next = y);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("epoch %zu/%zu  train_loss %.4f  val_loss %.4f  lr %g  %.2f s  %.0f samples/s\n", epoch + 1, epochs,
                train_loss / double(steps_per_epoch), val_loss / double(val_batches), double(opt.lr()), seconds,
                double(steps_per_epoch * batch_size) / seconds);
    std::fflush(stdout);
    tl::optim::apply_schedule(opt, schedule, epoch + 1);
  }

  // A sample: a prompt, then one drawn character at a time. Attention is
  // causal, so a window that is not full yet is read at its last filled position.
  std::string sample = "The Program ";
  tl::tensor<std::int32_t, 1, context> window;
  window.fill(' ');
  tl::random_stream draw{7};
  constexpr float temperature = 0.7f;
  for (std::size_t i = 0; i < 300; ++i) {
    const std::size_t filled = std::min(sample.size(), context), from = sample.size() - filled;
    for (std::size_t t = 0; t < filled; ++t) window(0, t) = static_cast<unsigned char>(sample[from + t]);
    const auto& logits = sampler(params, prompt = window);
    float top = logits(filled - 1, 0);
    for (std::size_t v = 1; v < vocabulary; ++v) top = std::max(top, logits(filled - 1, v));
    float weights[vocabulary], total = 0;
    for (std::size_t v = 0; v < vocabulary; ++v) total += weights[v] = std::exp((logits(filled - 1, v) - top) / temperature);
    float u = draw.uniform<float>() * total;
    std::size_t chosen = 0;
    while (chosen + 1 < vocabulary && (u -= weights[chosen]) > 0) ++chosen;
    sample.push_back(static_cast<char>(chosen));
  }
  std::printf("sample:\n%s\n", sample.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "tiny_transformer: %s\n", e.what());
  return 1;
}
