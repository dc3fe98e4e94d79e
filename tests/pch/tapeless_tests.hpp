// The header every test translation unit of a build reads first (-include),
// compiled once per build by tests/pch/meson.build: parsing the whole library
// is most of what a small test costs to compile, and each of the suite's
// files would otherwise parse it again.
#include <tapeless/tapeless.hpp>
