// The planner's passes, each on small graphs written out by hand as facts
// (compile/plan.hpp): checked while this file compiles, and once more at run
// time so that the cases are counted.
#define BOOST_TEST_MODULE compile_plan_passes
#include <boost/test/unit_test.hpp>

#include <array>
#include <cstddef>
#include <initializer_list>

#include <tapeless/compile/plan.hpp>

namespace {

using tapeless::detail::graph_facts;
using tapeless::detail::node_facts;

// Facts of the kinds of node the tests need, as their families state them.
constexpr node_facts leaf(std::size_t size, std::size_t columns = 1) {
  node_facts f;
  f.leaf = true, f.size = size, f.columns = columns, f.loop_size = size, f.bytes = 4 * size;
  return f;
}
constexpr node_facts constant() {
  node_facts f = leaf(1);
  f.in_register = true;
  return f;
}
constexpr node_facts elementwise(std::size_t size, std::size_t columns = 1) {
  node_facts f;
  f.fuses_into_consumer = f.elementwise_loop = f.hosts_fused_operands = true;
  f.size = size, f.columns = columns, f.loop_size = size, f.bytes = 4 * size;
  return f;
}
constexpr node_facts positional(std::size_t size, std::size_t columns) {
  node_facts f = elementwise(size, columns);
  f.positional = true;
  return f;
}
constexpr node_facts reduction(std::size_t size, std::size_t input_size) {
  node_facts f;
  f.hosts_fused_operands = f.writes_output_in_place = true;
  f.size = size, f.loop_size = input_size, f.bytes = 4 * size;
  return f;
}
constexpr node_facts product(std::size_t rows, std::size_t columns) {
  node_facts f;
  f.reads_operands_transposed = f.takes_epilogue = f.takes_update = f.writes_output_in_place = true;
  f.size = rows * columns, f.columns = columns, f.loop_size = f.size, f.bytes = 4 * f.size;
  return f;
}
constexpr node_facts convolution(std::size_t size, std::size_t columns, std::size_t scratch) {
  node_facts f;
  f.takes_epilogue = f.epilogue_by_image = f.writes_output_in_place = true;
  f.size = size, f.columns = columns, f.loop_size = size, f.bytes = 4 * size, f.scratch_bytes = scratch;
  return f;
}
constexpr node_facts pooling(std::size_t size, std::size_t columns, std::size_t indices) {
  node_facts f;
  f.pools_by_image = f.writes_output_in_place = f.scratch_lives_with_result = true;
  f.size = size, f.columns = columns, f.loop_size = size, f.bytes = 4 * size, f.scratch_bytes = indices;
  return f;
}
constexpr node_facts transposed(std::size_t size, std::size_t columns) {
  node_facts f;
  f.view_when_read_transposed = f.writes_output_in_place = true;
  f.size = size, f.columns = columns, f.loop_size = size, f.bytes = 4 * size;
  return f;
}
constexpr node_facts view_of(std::size_t size) {
  node_facts f;
  f.view = true, f.size = size, f.loop_size = size, f.bytes = 4 * size;
  return f;
}
constexpr node_facts output(std::size_t size, std::size_t columns = 1) {
  node_facts f;
  f.output = f.elementwise_loop = f.hosts_fused_operands = true;
  f.size = size, f.columns = columns, f.loop_size = size, f.bytes = 4 * size;
  return f;
}

// A graph from (facts, operand positions) per node, in topological order.
struct entry {
  node_facts facts;
  std::initializer_list<int> operands;
};
template <std::size_t N, std::size_t E>
constexpr graph_facts<N, E> graph(std::initializer_list<entry> entries) {
  graph_facts<N, E> g{};
  std::size_t i = 0, e = 0;
  for (const entry& x : entries) {
    g.nodes[i] = x.facts;
    g.nodes[i].first_operand = e;
    g.nodes[i].operand_count = x.operands.size();
    for (int o : x.operands) g.edges[e++] = o;
    ++i;
  }
  return g;
}

// a, b leaves; c = a + b; d = c * a; out(d): one loop computes c, d and the output.
constexpr auto chain = graph<5, 5>({{leaf(8), {}}, {leaf(8), {}}, {elementwise(8), {0, 1}},
                                    {elementwise(8), {2, 0}}, {output(8), {3}}});
// a leaf; s = a + 1 used twice (t = s * s); out(t): s is materialized.
constexpr auto shared = graph<5, 5>({{leaf(8), {}}, {constant(), {}}, {elementwise(8), {0, 1}},
                                     {elementwise(8), {2, 2}}, {output(8), {3}}});
// x [4, 3], W [5, 3], transpose(W), matmul [4, 5], b [5], matmul + b, out.
constexpr auto linear = graph<7, 6>({{leaf(12, 3), {}}, {leaf(15, 3), {}}, {transposed(15, 5), {1}},
                                     {product(4, 5), {0, 2}}, {leaf(5, 5), {}}, {elementwise(20, 5), {3, 4}},
                                     {output(20, 5), {5}}});
// v [6]; e = exp(v) [6]; s = sum(e) [1]; out(s): e runs inside the sum, whose result goes straight out.
constexpr auto summed = graph<4, 3>({{leaf(6), {}}, {elementwise(6), {0}}, {reduction(1, 6), {1}}, {output(1), {2}}});
// b [3] broadcast over m [2, 3]: b + 1 is smaller than the loop, so it is a kernel of its own.
constexpr auto broadcast = graph<6, 5>({{leaf(6, 3), {}}, {leaf(3, 3), {}}, {constant(), {}},
                                        {elementwise(3, 3), {1, 2}}, {elementwise(6, 3), {0, 3}}, {output(6, 3), {4}}});
// A positional node [2, 3] (a mask) read by a loop of another shape [2, 3] reshaped to [6]:
// m [2,3]; k = mask(m) [2,3]; r = view(k) [6]; s = r * 2 [6]; out(s)
constexpr auto positional_in_flat = graph<6, 5>({{leaf(6, 3), {}}, {positional(6, 3), {0}}, {view_of(6), {1}},
                                                 {constant(), {}}, {elementwise(6, 6), {2, 3}}, {output(6, 6), {4}}});

}  // namespace

BOOST_AUTO_TEST_CASE(count_uses_counts_every_reader_and_knows_transposed_reads) {
  constexpr auto u = tapeless::detail::count_uses(shared);
  static_assert(u.uses[2] == 2 && u.user[2] == 3 && u.uses[0] == 1 && u.uses[4] == 0);
  constexpr auto l = tapeless::detail::count_uses(linear);
  static_assert(l.only_read_transposed[2] && !l.only_read_transposed[3] && l.user[2] == 3);
  BOOST_TEST(u.uses[2] == 2);
  BOOST_TEST(l.only_read_transposed[2]);
}

BOOST_AUTO_TEST_CASE(assign_owners_fuses_single_use_chains_into_one_loop) {
  constexpr auto o = tapeless::detail::assign_owners(chain, tapeless::detail::count_uses(chain));
  static_assert(o.root[4] && !o.root[2] && !o.root[3]);
  static_assert(o.owner[2] == 4 && o.owner[3] == 4 && o.owner[0] == -1 && o.owner[1] == -1);
  BOOST_TEST(o.owner[2] == 4);
}

BOOST_AUTO_TEST_CASE(assign_owners_materializes_shared_and_broadcast_nodes) {
  constexpr auto s = tapeless::detail::assign_owners(shared, tapeless::detail::count_uses(shared));
  static_assert(s.root[2] && s.owner[3] == 4 && !s.root[3]);
  constexpr auto b = tapeless::detail::assign_owners(broadcast, tapeless::detail::count_uses(broadcast));
  static_assert(b.root[3] && b.owner[4] == 5);
  BOOST_TEST(s.root[2]);
  BOOST_TEST(b.root[3]);
}

BOOST_AUTO_TEST_CASE(assign_owners_runs_a_products_consumer_as_its_epilogue) {
  constexpr auto o = tapeless::detail::assign_owners(linear, tapeless::detail::count_uses(linear));
  static_assert(o.transpose_view[2] && !o.root[2]);  // W read transposed in place
  static_assert(!o.root[3] && o.owner[3] == 6 && o.epilogue_of[6] == 3);
  static_assert(o.owner[5] == 6 && o.root[6]);
  BOOST_TEST(o.epilogue_of[6] == 3);
}

// x [2, 1, 4, 4], W; y = conv(x, W) [2, 3, 4, 4]; b [3, 1, 1]; z = relu(y + b); p = pool(z) [2, 3, 2, 2]; out(p).
constexpr auto conv_relu_pool = graph<8, 7>({{leaf(32, 4), {}}, {leaf(27, 3), {}}, {convolution(96, 4, 640), {0, 1}},
                                             {leaf(3, 1), {}}, {elementwise(96, 4), {2, 3}},
                                             {elementwise(96, 4), {4}}, {pooling(24, 2, 96), {5}},
                                             {output(24, 2), {6}}});

BOOST_AUTO_TEST_CASE(assign_owners_pools_a_convolutions_epilogue_loop_inside_its_kernel) {
  constexpr auto u = tapeless::detail::count_uses(conv_relu_pool);
  constexpr auto o = tapeless::detail::assign_owners(conv_relu_pool, u);
  // The loop relu(y + b) runs as the convolution's epilogue, and its kernel pools too.
  static_assert(o.epilogue_of[5] == 2 && o.owner[2] == 5 && o.owner[4] == 5 && o.root[5]);
  static_assert(!o.root[6] && o.owner[6] == 5 && o.pooled_by[5] == 6 && o.external[6]);
  static_assert(o.unstored[5]);  // the pooling is its only reader
  constexpr auto k = tapeless::detail::order_kernels(o);
  static_assert(k.kernel_count == 1 && k.schedule[0] == 5 && k.position[6] == k.position[5]);
  constexpr auto last = tapeless::detail::liveness(conv_relu_pool, o, k);
  constexpr auto p = tapeless::detail::place_buffers(conv_relu_pool, o, k, last);
  // Neither the loop's result nor the pooled one (the output's) is in the arena: the
  // convolution's scratch and the pooling's indices are, apart.
  static_assert(!p.in_arena[5] && !p.in_arena[6] && !p.in_arena[2]);
  static_assert(p.scratch_offset[2] != p.scratch_offset[6]);
  static_assert(p.arena_bytes == tapeless::align_up(640) + tapeless::align_up(96));
  // Read by an output too, the loop's result is stored, and pooled in the same kernel.
  constexpr auto shared_loop = graph<9, 8>({{leaf(32, 4), {}}, {leaf(27, 3), {}}, {convolution(96, 4, 640), {0, 1}},
                                            {leaf(3, 1), {}}, {elementwise(96, 4), {2, 3}},
                                            {elementwise(96, 4), {4}}, {pooling(24, 2, 96), {5}},
                                            {output(24, 2), {6}}, {output(96, 4), {5}}});
  constexpr auto so = tapeless::detail::assign_owners(shared_loop, tapeless::detail::count_uses(shared_loop));
  static_assert(so.root[5] && so.pooled_by[5] == 6 && !so.unstored[5] && !so.root[6]);
  constexpr auto sk = tapeless::detail::order_kernels(so);
  constexpr auto sp = tapeless::detail::place_buffers(shared_loop, so, sk, tapeless::detail::liveness(shared_loop, so, sk));
  static_assert(sp.in_arena[5] && sk.kernel_count == 2 && sk.schedule[0] == 5 && sk.schedule[1] == 8);  // the other output copies it
  BOOST_TEST(o.pooled_by[5] == 6);
  BOOST_TEST(so.pooled_by[5] == 6);
  BOOST_TEST(sp.in_arena[5]);
}

BOOST_AUTO_TEST_CASE(assign_owners_lets_a_kernel_write_straight_into_its_output) {
  constexpr auto o = tapeless::detail::assign_owners(summed, tapeless::detail::count_uses(summed));
  static_assert(o.external[2] && o.redirect[2] == 3 && !o.root[3] && o.root[2] && o.owner[1] == 2);
  BOOST_TEST(o.external[2]);
}

BOOST_AUTO_TEST_CASE(assign_owners_keeps_positional_nodes_in_loops_of_their_own_shape) {
  constexpr auto o =
      tapeless::detail::assign_owners(positional_in_flat, tapeless::detail::count_uses(positional_in_flat));
  // The mask's user is a view, not a loop: the mask is its own kernel.
  static_assert(o.root[1] && o.owner[4] == 5);
  BOOST_TEST(o.root[1]);
}

BOOST_AUTO_TEST_CASE(order_kernels_keeps_topological_order_and_counts_fused_nodes) {
  constexpr auto o = tapeless::detail::assign_owners(shared, tapeless::detail::count_uses(shared));
  constexpr auto k = tapeless::detail::order_kernels(o);
  static_assert(k.kernel_count == 2 && k.schedule[0] == 2 && k.schedule[1] == 4);
  static_assert(k.position[2] == 0 && k.position[4] == 1 && k.fused_nodes == 1);
  BOOST_TEST(k.kernel_count == 2u);
}

BOOST_AUTO_TEST_CASE(liveness_follows_reads_through_views_to_the_last_kernel) {
  constexpr auto u = tapeless::detail::count_uses(positional_in_flat);
  constexpr auto o = tapeless::detail::assign_owners(positional_in_flat, u);
  constexpr auto k = tapeless::detail::order_kernels(o);
  constexpr auto last = tapeless::detail::liveness(positional_in_flat, o, k);
  // The mask (kernel 0) is read through the view by the output's loop (kernel 1).
  static_assert(k.position[1] == 0 && k.position[5] == 1 && last[1] == 1);
  static_assert(last[5] == 2);  // an output lives to the end of the program
  BOOST_TEST(last[1] == 1);
}

BOOST_AUTO_TEST_CASE(place_buffers_shares_bytes_only_between_buffers_never_alive_together) {
  // a; b = exp(a) used twice; c = b * b used twice; d = c + c; out(d):
  // b and c are buffers alive together (kernel 1 reads b and writes c).
  constexpr auto g = graph<5, 6>({{leaf(16), {}}, {elementwise(16), {0}}, {elementwise(16), {1, 1}},
                                  {elementwise(16), {2, 2}}, {output(16), {3}}});
  constexpr auto u = tapeless::detail::count_uses(g);
  constexpr auto o = tapeless::detail::assign_owners(g, u);
  constexpr auto k = tapeless::detail::order_kernels(o);
  constexpr auto last = tapeless::detail::liveness(g, o, k);
  constexpr auto p = tapeless::detail::place_buffers(g, o, k, last);
  static_assert(p.in_arena[1] && p.in_arena[2] && !p.in_arena[4]);
  static_assert(p.offset[1] != p.offset[2]);  // b and c overlap in time
  static_assert(p.offset[1] % tapeless::buffer_alignment == 0 && p.offset[2] % tapeless::buffer_alignment == 0);
  static_assert(p.arena_bytes == 2 * tapeless::align_up(64));
  // A buffer that dies before another is born gives it its bytes.
  constexpr auto h = graph<6, 8>({{leaf(16), {}}, {elementwise(16), {0}}, {elementwise(16), {1, 1}},
                                  {elementwise(16), {2, 2}}, {elementwise(16), {3, 3}}, {output(16), {4}}});
  constexpr auto hu = tapeless::detail::count_uses(h);
  constexpr auto ho = tapeless::detail::assign_owners(h, hu);
  constexpr auto hk = tapeless::detail::order_kernels(ho);
  constexpr auto hp = tapeless::detail::place_buffers(h, ho, hk, tapeless::detail::liveness(h, ho, hk));
  static_assert(hp.offset[3] == hp.offset[1]);  // node 1 is last read by kernel 1, node 3 is written by kernel 2
  static_assert(hp.arena_bytes == 2 * tapeless::align_up(64));
  BOOST_TEST(hp.offset[3] == hp.offset[1]);
}

BOOST_AUTO_TEST_CASE(kernels_needed_runs_only_what_the_wanted_nodes_read) {
  // x; a = exp(x) read twice (a kernel); out0(sum(a)); out1(a * 2): three
  // kernels, of which the first output needs a's and the sum's.
  constexpr auto g = graph<7, 7>({{leaf(8), {}}, {elementwise(8), {0}}, {reduction(1, 8), {1}}, {output(1), {2}},
                                  {constant(), {}}, {elementwise(8), {1, 4}}, {output(8), {5}}});
  constexpr auto p = tapeless::detail::make_plan(g);
  static_assert(p.kernel_count == 3 && p.schedule[0] == 1 && p.schedule[1] == 2 && p.schedule[2] == 6);
  constexpr auto first = tapeless::detail::kernels_needed(g, p, std::array<int, 1>{3});
  static_assert(first.kernel_count == 2 && first.schedule[0] == 1 && first.schedule[1] == 2);
  constexpr auto second = tapeless::detail::kernels_needed(g, p, std::array<int, 1>{6});
  static_assert(second.kernel_count == 2 && second.schedule[0] == 1 && second.schedule[1] == 6);
  constexpr auto both = tapeless::detail::kernels_needed(g, p, std::array<int, 2>{6, 3});
  static_assert(both.kernel_count == 3);
  // x W^T run with the loop (. + relu(b)) as its epilogue, relu(b) a kernel
  // of its own (smaller than the loop): wanting the product runs its
  // epilogue's kernel, so also the kernel that loop reads.
  constexpr auto l = graph<8, 7>({{leaf(12, 3), {}}, {leaf(15, 3), {}}, {transposed(15, 5), {1}},
                                  {product(4, 5), {0, 2}}, {leaf(5, 5), {}}, {elementwise(5, 5), {4}},
                                  {elementwise(20, 5), {3, 5}}, {output(20, 5), {6}}});
  constexpr auto lp = tapeless::detail::make_plan(l);
  static_assert(lp.kernel_count == 2 && lp.schedule[0] == 5 && lp.schedule[1] == 7 && lp.epilogue_of[7] == 3);
  constexpr auto product_only = tapeless::detail::kernels_needed(l, lp, std::array<int, 1>{3});
  static_assert(product_only.kernel_count == 2 && product_only.schedule[0] == 5);
  constexpr auto bias_only = tapeless::detail::kernels_needed(l, lp, std::array<int, 1>{5});
  static_assert(bias_only.kernel_count == 1 && bias_only.schedule[0] == 5);
  BOOST_TEST(first.kernel_count == 2u);
  BOOST_TEST(product_only.kernel_count == 2u);
  BOOST_TEST(bias_only.kernel_count == 1u);
}
