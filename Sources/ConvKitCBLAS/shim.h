#ifndef CONVKIT_CBLAS_SHIM_H
#define CONVKIT_CBLAS_SHIM_H
// The guard must not be CBLAS_H: OpenBLAS's own cblas.h uses that name, and
// sharing it would hide every declaration (see docs/Architecture.md).
//
// Debian/Ubuntu: <cblas.h> resolves through update-alternatives to the active
// BLAS (openblas-pthread); pkg-config "openblas" adds the directory that also
// declares the openblas_* extensions (openblas_get_corename, thread control).
#include <cblas.h>
// LAPACKE (liblapacke-dev): QR factorisation for orthogonal initialisation.
#include <lapacke.h>
#endif
