#pragma once
// The nn layer: layers with PyTorch's parameter names, dropout, and
// initializers. Activations and losses are plain ops in tl:: (expr/).

#include <tapeless/nn/batch_norm.hpp>
#include <tapeless/nn/conv2d.hpp>
#include <tapeless/nn/dropout.hpp>
#include <tapeless/nn/embedding.hpp>
#include <tapeless/nn/init.hpp>
#include <tapeless/nn/gru.hpp>
#include <tapeless/nn/layer_norm.hpp>
#include <tapeless/nn/linear.hpp>
#include <tapeless/nn/lstm.hpp>
#include <tapeless/nn/multihead_attention.hpp>
#include <tapeless/nn/rnn.hpp>
#include <tapeless/nn/transformer_encoder_layer.hpp>
