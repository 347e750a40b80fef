// ConvKitCKernels: ISA-specific micro-kernels (AVX2+FMA, AVX-512) behind runtime dispatch.
//
// Swift on Linux compiles for baseline x86-64 (SSE2) and has no per-function target attribute,
// so the few kernels that need wider vectors or FMA live here, each compiled for its ISA with
// `__attribute__((target(...)))` (no global compiler flags: the package stays usable as a
// dependency and its binaries run on any x86-64). ConvKitKernels calls them only after
// `ck_cpu_level()` says the CPU and OS support that ISA, and keeps a portable Swift path for
// every one of them. Internal module: not part of ConvKit's API.
#ifndef CONVKIT_CKERNELS_H
#define CONVKIT_CKERNELS_H

#include "ck_cpu.h"
#include "ck_pool.h"
#include "ck_conv_direct.h"
#include "ck_winograd.h"
#include "ck_winograd4.h"
#include "ck_activation.h"
#include "ck_workers.h"
#include "ck_dwconv.h"

#endif /* CONVKIT_CKERNELS_H */
