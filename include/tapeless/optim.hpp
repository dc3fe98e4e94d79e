#pragma once
// The optim layer: update rules (SGD with momentum and Nesterov, AdaGrad,
// RMSprop, Adam, AdamW) run as one fused pass per parameter tensor over a
// parameter store, with their state sized statically; learning-rate
// schedules; gradient clipping.

#include <tapeless/optim/adagrad.hpp>
#include <tapeless/optim/adam.hpp>
#include <tapeless/optim/adamw.hpp>
#include <tapeless/optim/clip.hpp>
#include <tapeless/optim/cosine_annealing.hpp>
#include <tapeless/optim/exponential_lr.hpp>
#include <tapeless/optim/gradient_accumulation.hpp>
#include <tapeless/optim/linear_warmup.hpp>
#include <tapeless/optim/optimizer.hpp>
#include <tapeless/optim/rmsprop.hpp>
#include <tapeless/optim/schedule.hpp>
#include <tapeless/optim/sgd.hpp>
#include <tapeless/optim/step_lr.hpp>
#include <tapeless/optim/trainer.hpp>
