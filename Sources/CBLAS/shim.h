// Debian ships the CBLAS interface inside libblas.so (netlib or OpenBLAS through
// update-alternatives); there is no libcblas.so, so the module links "blas".
#include <cblas.h>
