#ifndef CONVKIT_CK_WORKERS_H
#define CONVKIT_CK_WORKERS_H

/// ConvKit's persistent workers (the engine under Swift's `parallelFor`).
///
/// Threads are created lazily, up to the largest chunk count asked (at most CK_WORKERS_MAX - 1
/// of them: the caller is worker 0). Between jobs a worker spins for a short budget, then sleeps
/// on a futex (a condition variable off Linux), so an idle process uses no CPU and the next call
/// after any pause finds its workers. One job at a time: a caller that finds the pool busy, or
/// that is itself running inside a job, gets CK_WORKERS_DECLINED and runs its chunks itself.

#define CK_WORKERS_MAX 256
#define CK_WORKERS_RAN 0
#define CK_WORKERS_DECLINED 1

/// One chunk of a job: `chunk` in 0..<chunks.
typedef void (*ck_workers_task)(void *context, long chunk);

/// Runs task(context, c) once for every c in 0..<chunks (2 <= chunks <= CK_WORKERS_MAX), chunk 0
/// on the calling thread and chunk w on worker w unless a free thread took it first, and returns
/// when all have finished
/// (CK_WORKERS_RAN). Returns CK_WORKERS_DECLINED without running anything when another job is
/// running, the calling thread is inside a job (threading never nests), or chunks is out of range.
int ck_workers_run(ck_workers_task task, void *context, long chunks);

/// 1 while the calling thread runs a chunk of a job (pool workers, and callers inside
/// ck_workers_run or between ck_workers_enter/ck_workers_leave).
int ck_workers_inside(void);

/// Marks the calling thread as inside a job (for a caller that runs its chunks itself).
void ck_workers_enter(void);
void ck_workers_leave(void);

/// Worker threads created so far.
int ck_workers_count(void);

/// Nanoseconds an idle worker (or a caller waiting for its workers) spins before it sleeps.
long ck_workers_spin_ns(void);

#endif /* CONVKIT_CK_WORKERS_H */
