#pragma once
// Every kernel family (compile/kernels/family.hpp says what one is). A new
// family is one file under compile/kernels/ and one line here.

#include <tapeless/compile/kernels/batch_matmul.hpp>
#include <tapeless/compile/kernels/batch_statistics.hpp>
#include <tapeless/compile/kernels/causal_mask.hpp>
#include <tapeless/compile/kernels/conv2d.hpp>
#include <tapeless/compile/kernels/copy.hpp>
#include <tapeless/compile/kernels/detach.hpp>
#include <tapeless/compile/kernels/dropout.hpp>
#include <tapeless/compile/kernels/elementwise.hpp>
#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/compile/kernels/gather.hpp>
#include <tapeless/compile/kernels/leaf.hpp>
#include <tapeless/compile/kernels/loop.hpp>
#include <tapeless/compile/kernels/matmul.hpp>
#include <tapeless/compile/kernels/normalize.hpp>
#include <tapeless/compile/kernels/one_hot.hpp>
#include <tapeless/compile/kernels/output.hpp>
#include <tapeless/compile/kernels/permute.hpp>
#include <tapeless/compile/kernels/pool2d.hpp>
#include <tapeless/compile/kernels/reduce.hpp>
#include <tapeless/compile/kernels/reshape.hpp>
#include <tapeless/compile/kernels/scan.hpp>
#include <tapeless/compile/kernels/take_rows.hpp>
#include <tapeless/compile/kernels/transpose.hpp>
