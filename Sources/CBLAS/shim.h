// Linux: Debian ships the CBLAS interface inside libblas.so (netlib or OpenBLAS through
// update-alternatives); there is no libcblas.so, so the module links "blas".
// Darwin: the same interface comes from Accelerate (its libBLAS answers "-lblas" too).
#if defined(__APPLE__)
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif
