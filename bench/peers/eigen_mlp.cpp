// W1 and W2 with Eigen and backpropagation written by hand: fixed-size
// matrices for the tiny network, preallocated dynamic ones (noalias products,
// no temporaries in the step) for the large one. Samples are columns, so a
// batch of row-major samples maps onto an [in, batch] matrix without a copy.

#include <Eigen/Dense>

#include "common.hpp"

#include <cstdint>
#include <memory>

namespace peers = tapeless::bench::peers;

namespace {

using rowmajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Reads an [out, in] row-major weight and its bias from the blob.
template <class W, class Bv>
const float* take(const float* p, W& w, Bv& b) {
  w = Eigen::Map<const rowmajor>(p, w.rows(), w.cols());
  p += w.size();
  b = Eigen::Map<const Eigen::VectorXf>(p, b.size());
  return p + b.size();
}

template <int B>
struct w1_net {
  static constexpr int I = peers::w1::in, H = peers::w1::hidden;
  Eigen::Matrix<float, H, I> w1;
  Eigen::Matrix<float, H, 1> b1;
  Eigen::Matrix<float, H, H> w2;
  Eigen::Matrix<float, H, 1> b2;
  Eigen::Matrix<float, 1, H> w3;
  Eigen::Matrix<float, 1, 1> b3;
  Eigen::Matrix<float, H, B> h1, h2, d2, d1;
  Eigen::Matrix<float, 1, B> y, e;

  void load(const std::vector<float>& w) {
    const float* p = w.data();
    p = take(p, w1, b1);
    p = take(p, w2, b2);
    take(p, w3, b3);
  }

  template <class X>
  void forward(const X& x) {
    h1.noalias() = w1 * x;
    h1 = (h1.colwise() + b1).array().tanh();
    h2.noalias() = w2 * h1;
    h2 = (h2.colwise() + b2).array().tanh();
    y.noalias() = w3 * h2;
    y.array() += b3(0);
  }

  float infer(const float* x) {
    forward(Eigen::Map<const Eigen::Matrix<float, I, B>>(x));
    return y(0);
  }

  float step(const float* xp, const float* tp, float lr) {
    const Eigen::Map<const Eigen::Matrix<float, I, B>> x(xp);
    const Eigen::Map<const Eigen::Matrix<float, 1, B>> t(tp);
    forward(x);
    e = y - t;
    const float loss = e.squaredNorm() / B;
    e *= 2.0f / B;
    d2.noalias() = w3.transpose() * e;
    d2.array() *= 1 - h2.array().square();
    d1.noalias() = w2.transpose() * d2;
    d1.array() *= 1 - h1.array().square();
    w3.noalias() -= lr * e * h2.transpose();
    b3(0) -= lr * e.sum();
    w2.noalias() -= lr * d2 * h1.transpose();
    b2.noalias() -= lr * d2.rowwise().sum();
    w1.noalias() -= lr * d1 * x.transpose();
    b1.noalias() -= lr * d1.rowwise().sum();
    return loss;
  }
};

struct w2_net {
  static constexpr int I = peers::w2::in, H1 = peers::w2::h1, H2 = peers::w2::h2, O = peers::w2::out,
                       B = peers::w2::batch;
  Eigen::MatrixXf w1{H1, I}, w2{H2, H1}, w3{O, H2}, g1{H1, I}, g2{H2, H1}, g3{O, H2}, v1, v2, v3;
  Eigen::VectorXf b1{H1}, b2{H2}, b3{O}, gb1{H1}, gb2{H2}, gb3{O}, vb1, vb2, vb3;
  Eigen::MatrixXf h1{H1, B}, h2{H2, B}, z3{O, B}, d1{H1, B}, d2{H2, B};
  bool first_step = true;

  void load(const std::vector<float>& w) {
    const float* p = w.data();
    p = take(p, w1, b1);
    p = take(p, w2, b2);
    take(p, w3, b3);
    v1.setZero(H1, I), v2.setZero(H2, H1), v3.setZero(O, H2);
    vb1.setZero(H1), vb2.setZero(H2), vb3.setZero(O);
    first_step = true;
  }

  // v = m v + g (v = g on the first step, as torch.optim.SGD); w -= lr v.
  template <class W, class G, class V>
  void update(W& w, const G& g, V& v) const {
    if (first_step)
      v = g;
    else
      v = peers::w2::momentum * v + g;
    w.noalias() -= peers::w2::lr * v;
  }

  float step(const float* xp, const std::int32_t* labels) {
    const Eigen::Map<const Eigen::MatrixXf> x(xp, I, B);
    h1.noalias() = w1 * x;
    h1 = (h1.colwise() + b1).cwiseMax(0.f);
    h2.noalias() = w2 * h1;
    h2 = (h2.colwise() + b2).cwiseMax(0.f);
    z3.noalias() = w3 * h2;
    z3.colwise() += b3;
    float loss = 0;
    for (int s = 0; s < B; ++s) {  // softmax cross-entropy; z3 becomes its gradient
      auto z = z3.col(s);
      const float mx = z.maxCoeff();
      z = (z.array() - mx).exp();
      const float sum = z.sum();
      loss += std::log(sum) + mx - (std::log(z(labels[s])) + mx);
      z /= sum * B;
      z(labels[s]) -= 1.0f / B;
    }
    g3.noalias() = z3 * h2.transpose();
    gb3 = z3.rowwise().sum();
    d2.noalias() = w3.transpose() * z3;
    d2 = (h2.array() > 0).select(d2, 0.f);
    g2.noalias() = d2 * h1.transpose();
    gb2 = d2.rowwise().sum();
    d1.noalias() = w2.transpose() * d2;
    d1 = (h1.array() > 0).select(d1, 0.f);
    g1.noalias() = d1 * x.transpose();
    gb1 = d1.rowwise().sum();
    update(w1, g1, v1), update(b1, gb1, vb1);
    update(w2, g2, v2), update(b2, gb2, vb2);
    update(w3, g3, v3), update(b3, gb3, vb3);
    first_step = false;
    return loss / B;
  }
};

}  // namespace

int main(int argc, char** argv) try {
  peers::driver d(argc, argv);
  {
    const peers::w1_data data(d.dir());
    namespace w = peers::w1;
    auto n1 = std::make_unique<w1_net<1>>();
    d.workload(
        "w1_train_b1", [&] { n1->load(data.weights); },
        [&](std::uint64_t i) {
          const std::size_t s = i % w::samples;
          return double(n1->step(&data.x[s * w::in], &data.t[s], w::lr));
        });
    auto n32 = std::make_unique<w1_net<32>>();
    d.workload(
        "w1_train_b32", [&] { n32->load(data.weights); },
        [&](std::uint64_t i) {
          const std::size_t s = (i % (w::samples / 32)) * 32;
          return double(n32->step(&data.x[s * w::in], &data.t[s], w::lr));
        });
    d.workload(
        "w1_infer_b1", [&] { n1->load(data.weights); },
        [&](std::uint64_t i) {
          const std::size_t s = i % w::samples;
          return double(n1->infer(&data.x[s * w::in]));
        });
  }
  {
    const peers::w2_data data(d.dir());
    namespace w = peers::w2;
    auto net = std::make_unique<w2_net>();
    d.workload(
        "w2_train_b64", [&] { net->load(data.weights); },
        [&](std::uint64_t i) {
          const std::size_t s = (i % w::batches) * w::batch;
          return double(net->step(&data.x[s * w::in], &data.y[s]));
        });
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "eigen_mlp: %s\n", e.what());
  return 1;
}
