#pragma once
// MPI for tl::dist: the processes of a run (a communicator), MPI's set-up
// and tear-down (an environment), and the errors of a distributed set-up.
//
//   int main(int argc, char** argv) {
//     tl::dist::environment mpi(argc, argv);   // MPI_Init, and MPI_Finalize at the end
//     tl::dist::communicator world;           // MPI_COMM_WORLD: world.rank(), world.size()
//     if (world.is_root()) std::printf("%d ranks\n", world.size());
//
// This header and the rest of include/tapeless/dist/ need MPI (<mpi.h>, and
// its library at link time); nothing else in tapeless includes them, so the
// library builds and installs without MPI.

// Open MPI's <mpi.h> also declares its deprecated C++ bindings, whose casts
// -Wextra warns of; tl::dist uses the C API.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-function-type"
#endif
#include <mpi.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace tapeless::dist {

// A distributed set-up that cannot work: MPI not initialised, ranks that
// disagree on the model, a shard that does not exist.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Initialises MPI if nobody has, and finalises it at the end of its life if
// it did. A program that calls MPI_Init itself needs none.
class environment {
 public:
  environment(int& argc, char**& argv) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
      // Serialized: data_parallel's overlap_backward calls MPI from a thread
      // of its own, never while this one does.
      int provided = MPI_THREAD_SINGLE;
      if (MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
        throw error("tl::dist::environment: MPI_Init_thread failed");
      owns_ = true;
    }
  }
  environment(const environment&) = delete;
  environment& operator=(const environment&) = delete;
  ~environment() {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (owns_ && !finalised) MPI_Finalize();
  }

 private:
  bool owns_ = false;
};

// The processes of a run, as MPI sees them; rank 0 is the root, which
// prints and saves. It refers to the MPI communicator, which must outlive it.
class communicator {
 public:
  explicit communicator(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {
    int initialised = 0, finalised = 0;
    MPI_Initialized(&initialised);
    MPI_Finalized(&finalised);
    if (!initialised || finalised)
      throw error(std::string("tl::dist::communicator: MPI is ") + (finalised ? "already finalised" : "not initialised") +
                  ": make a tl::dist::environment mpi(argc, argv) at the start of main (or call MPI_Init) "
                  "before using tl::dist, and start the program with mpirun -np N");
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }

  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }
  bool is_root() const noexcept { return rank_ == 0; }
  MPI_Comm native() const noexcept { return comm_; }

  // Waits for every rank.
  void barrier() const noexcept { MPI_Barrier(comm_); }

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

namespace detail {

// The MPI type of the element types tl::dist reduces.
template <class T>
MPI_Datatype mpi_type() noexcept {
  if constexpr (std::is_same_v<T, float>)
    return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, double>)
    return MPI_DOUBLE;
  else {
    static_assert(std::is_same_v<T, std::uint64_t>, "tl::dist: gradients are reduced as float or double");
    return MPI_UINT64_T;
  }
}

}  // namespace detail

}  // namespace tapeless::dist
