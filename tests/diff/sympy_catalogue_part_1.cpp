// One slice of the SymPy catalogue (see sympy_catalogue.hpp): compiling the
// derivatives of every formula is slow, so the slices compile in parallel.
#include "diff/sympy_catalogue.hpp"

namespace sympy_catalogue {

void check_part_1(aspect what) { check_entries_of_part<1>(what); }

}  // namespace sympy_catalogue
