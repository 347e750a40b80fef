// Persistent workers: spin briefly, then sleep on a futex (see ck_workers.h).
//
// Protocol. Jobs are numbered; `state` holds the open job's number (high 24 bits) and how many
// workers are inside it (low 8 bits). Each worker owns a command word (its futex). The caller
// writes the job (task, context, chunks, one claim flag per chunk), then stores the job number
// in the command word of each worker it needs (seq_cst) and wakes it only if the worker said it
// sleeps. A worker that sees its word change joins the job (CAS on `state`) only if that job is
// still open, runs the chunks it can claim, and leaves (waking the caller if the caller sleeps
// and it was the last). Chunk c is worker c's, but whoever is free takes a chunk nobody has
// claimed, so the caller runs the chunks of workers that have not joined yet; once every chunk
// is done and no worker is inside, the caller closes the job by moving `state` to the next
// number. A worker that wakes late (its core busy) finds its job closed and touches nothing: it
// costs the call nothing. The ranges depend only on the chunk index, never on the thread. Every hand-over of data goes through these atomics (the futex
// only blocks), so ThreadSanitizer sees the happens-before edges.
#define _GNU_SOURCE
#include "ck_workers.h"

#include <fenv.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CK_PAUSE() _mm_pause()
#else
#define CK_PAUSE() ((void)0)
#endif

/// Spin budget: an idle worker keeps polling this long before it sleeps (see docs/Architecture.md).
#define CK_WORKERS_SPIN_NS 200000L

// MARK: futex (a mutex + condition variable elsewhere)

#if defined(__linux__)
static void ck_futex_wait(_Atomic uint32_t *word, uint32_t value) {
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
}
static void ck_futex_wake(_Atomic uint32_t *word) {
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
#else
static pthread_mutex_t ck_park_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ck_park_cond = PTHREAD_COND_INITIALIZER;
static void ck_futex_wait(_Atomic uint32_t *word, uint32_t value) {
    pthread_mutex_lock(&ck_park_lock);
    while (atomic_load(word) == value) pthread_cond_wait(&ck_park_cond, &ck_park_lock);
    pthread_mutex_unlock(&ck_park_lock);
}
static void ck_futex_wake(_Atomic uint32_t *word) {
    (void)word;
    pthread_mutex_lock(&ck_park_lock);
    pthread_cond_broadcast(&ck_park_cond);
    pthread_mutex_unlock(&ck_park_lock);
}
#endif

static int64_t ck_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// MARK: state

typedef struct {
    _Alignas(64) _Atomic uint32_t command;  // bumped once per job for this worker (futex word)
    _Atomic uint32_t sleeping;              // 1 while the worker is (about to be) in futex wait
    pthread_t thread;                       // set before the worker's first job
} ck_worker_slot;

static struct {
    _Atomic int busy;         // 1 while a job runs (the one-job-at-a-time lock; try-acquired)
    int workers;              // threads created (slots 1...workers); changed only with busy held
    _Atomic int created;      // same, for ck_workers_count
    // The current job: written by the caller before the command words, read by the workers after.
    ck_workers_task task;
    void *context;
    long chunks;
    long spin;                // this job's spin budget (0 when oversubscribed)
    _Atomic uint8_t claimed[CK_WORKERS_MAX];  // 1 once some thread took the chunk
    _Alignas(64) _Atomic uint32_t state;  // open job number << 8 | workers inside (futex word)
    _Atomic uint32_t caller_sleeping;
    ck_worker_slot slots[CK_WORKERS_MAX];
} ck_pool;

static _Thread_local int ck_inside = 0;
static long ck_online = 0;

int ck_workers_inside(void) { return ck_inside; }
void ck_workers_enter(void) { ck_inside = 1; }
void ck_workers_leave(void) { ck_inside = 0; }
int ck_workers_count(void) { return atomic_load_explicit(&ck_pool.created, memory_order_relaxed); }
long ck_workers_spin_ns(void) { return CK_WORKERS_SPIN_NS; }

// MARK: workers

/// Runs chunk `first` if nobody took it, then every other chunk nobody took.
static void ck_run_claims(ck_workers_task task, void *context, long chunks, long first) {
    for (long i = 0; i < chunks; i++) {
        long c = first + i < chunks ? first + i : first + i - chunks;
        if (atomic_load_explicit(&ck_pool.claimed[c], memory_order_relaxed) == 0
            && atomic_exchange_explicit(&ck_pool.claimed[c], 1, memory_order_relaxed) == 0)
            task(context, c);
    }
}

/// Waits until `*word != seen` (spinning up to `spin` ns first, then sleeping); returns the new value.
static uint32_t ck_wait_change(_Atomic uint32_t *word, uint32_t seen, _Atomic uint32_t *sleeping, long spin) {
    uint32_t value = atomic_load_explicit(word, memory_order_acquire);
    if (value != seen) return value;
    if (spin > 0) {
        int64_t deadline = ck_now_ns() + spin;
        for (;;) {
            for (int i = 0; i < 64; i++) {
                CK_PAUSE();
                value = atomic_load_explicit(word, memory_order_acquire);
                if (value != seen) return value;
            }
            if (ck_now_ns() >= deadline) break;
        }
    }
    atomic_store(sleeping, 1);  // seq_cst: pairs with the waker's store then load
    while ((value = atomic_load(word)) == seen) ck_futex_wait(word, seen);
    atomic_store_explicit(sleeping, 0, memory_order_relaxed);
    return value;
}

static void *ck_worker_main(void *arg) {
    long index = (long)(intptr_t)arg;
    ck_worker_slot *slot = &ck_pool.slots[index];
    // A new thread inherits its creator's floating-point state, which may be flushing subnormals
    // (a loop started inside a kernel's FTZ region); start from the default so that each chunk
    // flushes exactly when its loop asks for it.
    fesetenv(FE_DFL_ENV);
    ck_inside = 1;  // a parallel loop called from a chunk runs serially
    uint32_t seen = 0;
    long spin = 0;  // no spin before the first job
    for (;;) {
        seen = ck_wait_change(&slot->command, seen, &slot->sleeping, spin);
        uint32_t state = atomic_load(&ck_pool.state);
        int joined = 0;
        while ((state >> 8) == seen) {  // the job is still open: join it
            if (atomic_compare_exchange_weak(&ck_pool.state, &state, state + 1)) { joined = 1; break; }
        }
        if (!joined) continue;  // closed: the caller ran this worker's chunk
        ck_workers_task task = ck_pool.task;
        void *context = ck_pool.context;
        long chunks = ck_pool.chunks;
        spin = ck_pool.spin;
        ck_run_claims(task, context, chunks, index);
        if (((atomic_fetch_sub(&ck_pool.state, 1) - 1) & 0xFF) == 0 && atomic_load(&ck_pool.caller_sleeping))
            ck_futex_wake(&ck_pool.state);
    }
    return NULL;
}

/// A child of fork() has none of the parent's workers: start over.
static void ck_after_fork_child(void) {
    for (int w = 0; w < CK_WORKERS_MAX; w++) {
        atomic_store_explicit(&ck_pool.slots[w].command, 0, memory_order_relaxed);
        atomic_store_explicit(&ck_pool.slots[w].sleeping, 0, memory_order_relaxed);
    }
    ck_pool.workers = 0;
    atomic_store_explicit(&ck_pool.created, 0, memory_order_relaxed);
    atomic_store_explicit(&ck_pool.state, 1u << 8, memory_order_relaxed);
    atomic_store_explicit(&ck_pool.caller_sleeping, 0, memory_order_relaxed);
    atomic_store_explicit(&ck_pool.busy, 0, memory_order_relaxed);
    ck_inside = 0;
}

/// Creates workers up to `wanted` (called with busy held). Returns how many exist.
static int ck_grow(int wanted) {
    static int registered = 0;
    if (!registered && ck_pool.workers < wanted) {
        pthread_atfork(NULL, NULL, ck_after_fork_child);
        registered = 1;
    }
    while (ck_pool.workers < wanted) {
        int index = ck_pool.workers + 1;
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attr, ck_worker_main, (void *)(intptr_t)index);
        pthread_attr_destroy(&attr);
        if (failed) break;
        ck_pool.slots[index].thread = thread;
        ck_pool.workers = index;
        atomic_store_explicit(&ck_pool.created, index, memory_order_relaxed);
    }
    return ck_pool.workers;
}

/// Gives each sleeping worker among 1...helpers one core of the caller's affinity mask other than
/// the caller's own. Why: Linux places a woken thread on an idle core only when that core looks
/// available, and in a virtual machine a core idle for a while looks preempted, so the worker was
/// queued behind its caller and the first call after a pause ran on one core (docs/Architecture.md).
/// The chunk claims bound the cost of a bad placement: a worker whose core is taken arrives late and
/// the caller runs its chunk.
static void ck_place_sleepers(int helpers) {
#if defined(__linux__)
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
    int here = sched_getcpu();
    int cores[CK_WORKERS_MAX];
    int count = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && count < CK_WORKERS_MAX; cpu++)
        if (CPU_ISSET(cpu, &allowed) && cpu != here) cores[count++] = cpu;
    if (count == 0) return;
    for (int w = 1; w <= helpers; w++) {
        if (!atomic_load(&ck_pool.slots[w].sleeping)) continue;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cores[(w - 1) % count], &one);
        pthread_setaffinity_np(ck_pool.slots[w].thread, sizeof one, &one);
    }
#else
    (void)helpers;
#endif
}

int ck_workers_run(ck_workers_task task, void *context, long chunks) {
    if (ck_inside || chunks < 2 || chunks > CK_WORKERS_MAX) return CK_WORKERS_DECLINED;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&ck_pool.busy, &expected, 1)) return CK_WORKERS_DECLINED;
    if (ck_online == 0) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        ck_online = online > 0 ? online : 1;
    }
    int helpers = ck_grow((int)chunks - 1);  // chunks beyond the workers created run on the caller
    if (helpers > chunks - 1) helpers = (int)chunks - 1;

    ck_pool.task = task;
    ck_pool.context = context;
    ck_pool.chunks = chunks;
    atomic_store_explicit(&ck_pool.claimed[0], 1, memory_order_relaxed);  // the caller's
    for (long c = 1; c < chunks; c++) atomic_store_explicit(&ck_pool.claimed[c], 0, memory_order_relaxed);
    // Spinning only helps when every chunk has a core; oversubscribed, it takes time from them.
    long spin = chunks <= ck_online ? CK_WORKERS_SPIN_NS : 0;
    ck_pool.spin = spin;
    uint32_t job = atomic_load(&ck_pool.state) >> 8;  // open, nobody inside (job 0 is never used)
    if (job == 0) {
        job = 1;
        atomic_store(&ck_pool.state, job << 8);
    }
    for (int w = 1; w <= helpers; w++) {
        if (atomic_load(&ck_pool.slots[w].sleeping)) { ck_place_sleepers(helpers); break; }
    }
    for (int w = 1; w <= helpers; w++) {
        ck_worker_slot *slot = &ck_pool.slots[w];
        atomic_store(&slot->command, job);  // seq_cst: publishes the job
        if (atomic_load(&slot->sleeping)) ck_futex_wake(&slot->command);
    }

    ck_inside = 1;
    task(context, 0);
    ck_run_claims(task, context, chunks, 1);
    ck_inside = 0;

    // Every chunk is claimed; those still running belong to workers inside the job. Wait until
    // none is inside, then close the job (a worker joining meanwhile makes the CAS fail).
    uint32_t next = (job + 1) & 0xFFFFFF;
    if (next == 0) next = 1;
    uint32_t state = atomic_load(&ck_pool.state);
    int64_t deadline = spin > 0 ? ck_now_ns() + spin : 0;
    int sleeping = 0;
    for (;;) {
        if ((state & 0xFF) == 0) {
            if (atomic_compare_exchange_strong(&ck_pool.state, &state, next << 8)) break;
            continue;
        }
        if (!sleeping && spin > 0 && ck_now_ns() < deadline) {
            for (int i = 0; i < 64; i++) CK_PAUSE();
            state = atomic_load(&ck_pool.state);
            continue;
        }
        if (!sleeping) {
            atomic_store(&ck_pool.caller_sleeping, 1);  // seq_cst, then re-read: pairs with the leaver
            sleeping = 1;
            state = atomic_load(&ck_pool.state);
            continue;
        }
        ck_futex_wait(&ck_pool.state, state);
        state = atomic_load(&ck_pool.state);
    }
    if (sleeping) atomic_store_explicit(&ck_pool.caller_sleeping, 0, memory_order_relaxed);
    atomic_store_explicit(&ck_pool.busy, 0, memory_order_release);
    return CK_WORKERS_RAN;
}
