#pragma once
// The simd layer: the loops a compiled program runs, on xsimd. Fused
// elementwise maps and reductions (one loop template: SIMD body, scalar
// tail) and GEMM with register-blocked tiles chosen per static shape and
// instruction set, with a fused epilogue; 2-D convolution (im2col into the
// GEMM tiles, or direct loops) and pooling. The instruction set is a template
// parameter everywhere, defaulting to xsimd::default_arch (what the compiler
// flags enable).

#include <tapeless/simd/conv2d.hpp>
#include <tapeless/simd/conv2d_shape.hpp>
#include <tapeless/simd/epilogue.hpp>
#include <tapeless/simd/exp.hpp>
#include <tapeless/simd/fused_loop.hpp>
#include <tapeless/simd/narrower_arch.hpp>
#include <tapeless/simd/gemm.hpp>
#include <tapeless/simd/lanes.hpp>
#include <tapeless/simd/map.hpp>
#include <tapeless/simd/pool2d.hpp>
#include <tapeless/simd/sum.hpp>
