#define BOOST_TEST_MODULE dist_setup
#include <boost/test/unit_test.hpp>

#include <tapeless/dist.hpp>

#include <string>

namespace tl = tapeless;

// This executable never calls MPI_Init: it is a program that forgot to.
BOOST_AUTO_TEST_CASE(a_communicator_before_mpi_init_names_the_fix) {
  try {
    tl::dist::communicator world;
    BOOST_FAIL("no error without MPI_Init");
  } catch (const tl::dist::error& e) {
    const std::string message = e.what();
    BOOST_TEST(message.find("MPI is not initialised") != std::string::npos, message);
    BOOST_TEST(message.find("tl::dist::environment") != std::string::npos, message);
  }
}
