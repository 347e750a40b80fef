#include "ck_cpu.h"

#if defined(__x86_64__) || defined(__i386__)
static int ck_detect(void) {
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks (through XGETBV) that the OS enabled the YMM/ZMM state.
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    int avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    return avx512 ? 2 : (avx2 ? 1 : 0);
}
#else
static int ck_detect(void) { return 0; }
#endif

int ck_cpu_level(void) {
    // Racing first calls compute the same value; int stores are atomic on every supported target.
    static volatile int cached = -1;
    int level = cached;
    if (level < 0) {
        level = ck_detect();
        cached = level;
    }
    return level;
}
