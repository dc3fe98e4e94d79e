#pragma once
// tl::compile(loss, rule): a training program with its optimizer, so that one
// call runs forward, backward and the update.
//
//   auto trainer = tl::compile(loss, tl::optim::sgd{.lr = 0.05f, .momentum = 0.9f});
//   auto params = tl::parameters_of(loss);
//   float l = trainer.step(params, X = xbatch, Y = ybatch);   // forward, backward, update
//   trainer.optimizer().set_lr(0.01f);                        // schedules, state
//   const auto& z = trainer(params, X = xbatch);              // forward only (loss)
//
// Today the update is its own fused pass over each parameter after the
// backward pass (one simd::map per tensor), as with a separate optimizer; it
// does not yet run inside the weight-gradient GEMM's epilogue.

#include <utility>

#include <tapeless/compile/parameters.hpp>
#include <tapeless/compile/program.hpp>
#include <tapeless/optim/optimizer.hpp>

namespace tapeless {

namespace optim {

template <class Program, class Optimizer>
class trainer {
 public:
  using program_type = Program;
  using optimizer_type = Optimizer;
  using value_type = typename Program::value_type;

  trainer(Program program, Optimizer optimizer) : program_(std::move(program)), optimizer_(std::move(optimizer)) {}

  template <class Store, class... Bindings>
  value_type step(Store& params, const Bindings&... bindings) noexcept {
    const value_type loss = program_.step(params, bindings...);
    optimizer_.step(params);
    return loss;
  }

  template <class Store, class... Bindings>
  decltype(auto) operator()(Store& params, const Bindings&... bindings) noexcept {
    return program_(params, bindings...);
  }

  Program& program() noexcept { return program_; }
  Optimizer& optimizer() noexcept { return optimizer_; }

 private:
  Program program_;
  Optimizer optimizer_;
};

}  // namespace optim

template <class Storage = automatic_storage, expression E, optim::update_rule Rule>
auto compile(const E& loss, const Rule& rule) {
  auto program = compile<Storage>(loss);
  static_assert(decltype(program)::trains,
                "tl::compile(loss, rule): the loss must be a scalar that reads params");
  using store = parameters_of_t<Storage, E>;
  return optim::trainer<decltype(program), optim::optimizer_for<store, Rule>>(
      std::move(program), optim::optimizer_for<store, Rule>(rule));
}

}  // namespace tapeless
