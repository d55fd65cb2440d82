/*
 * A small thread pool for the kernels, and per-thread scratch buffers that grow once and are reused.
 *
 * Why not OpenMP: at the end of a parallel region OpenMP waits for every thread of the team. On a
 * 2-core machine where another process holds a core, a team thread that is not scheduled stalls
 * each call for a scheduler time slice: 15M-shape decode fell to ≈ 47 tok/s with OpenMP (run.c,
 * also OpenMP, to ≈ 80); with this pool it runs at ≈ 165. Here the calling thread claims chunks of
 * tasks from a shared counter alongside the workers and only waits for chunks a worker has
 * started; a worker that wakes late finds nothing left. Which thread runs a task never changes how
 * the task computes, so results do not depend on the number of threads or on timing.
 *
 * Idle workers spin for SPIN_NS after the last job (a decode step issues the next kernel within
 * microseconds), then sleep on a condition variable, so an idle process uses no CPU.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tinymorph.h"

#if defined(_WIN32)
#define TM_POOL 0 /* no pthreads: kernels run on the calling thread */
#else
#define TM_POOL 1
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

#define MAX_THREADS 256
/* Idle workers spin this long before sleeping ($TINYMORPH_SPIN_US overrides; see bench/README.md
   "Native backend kernels"). Read once, before the first worker starts. */
#define SPIN_NS_DEFAULT 1000000L
static long g_spin_ns = -1;

static int g_threads; /* 0 until first use */
/* Measured on a 2-core AMD EPYC (Zen 4), workers spinning: from ≈ 0.07 MFLOP (a 192×192 matvec)
   a second thread saves more than handing out the job costs (≈ 1–2 µs). */
static double g_min_work = 1e5;

static int cpu_count(void) {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
#endif
#if TM_POOL
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
#else
  return 1;
#endif
}

int tm_has_pool(void) { return TM_POOL; }

void tm_set_threads(int n) { g_threads = !TM_POOL || n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n; }

int tm_get_threads(void) {
  if (!g_threads) tm_set_threads(cpu_count());
  return g_threads;
}

void tm_set_parallel_min_work(double work) { g_min_work = work < 0 ? 0 : work; }
double tm_get_parallel_min_work(void) { return g_min_work; }
int tm_team(double work) { return work >= g_min_work ? tm_get_threads() : 1; }

#if TM_POOL

/*
 * The job is published like a seqlock: `seq` is odd while the caller writes the fields, even when
 * they are complete. `claim` holds (job number << 32 | next task), so a worker that copied an old
 * job can never claim a task of a newer one.
 */
static struct {
  _Atomic unsigned seq;
  _Atomic(tm_range_fn) fn;
  _Atomic(void *) ctx;
  _Atomic long count, chunk;
  _Atomic int helpers; /* workers allowed to join: threads − 1 */
  _Atomic unsigned long long claim;
  _Atomic long done;
} job;

static atomic_flag busy = ATOMIC_FLAG_INIT; /* one caller at a time (Node worker threads may call concurrently) */
static _Atomic int sleepers;
static pthread_mutex_t sleep_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sleep_cv = PTHREAD_COND_INITIALIZER;
static int started; /* workers created so far (only the caller holding `busy` creates them) */

static long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Claims and runs chunks of job `number` until none is left. */
static void run_chunks(unsigned number, tm_range_fn fn, void *ctx, long count, long chunk) {
  unsigned long long c = atomic_load(&job.claim);
  for (;;) {
    if ((unsigned)(c >> 32) != number) return;
    const long lo = (long)(c & 0xFFFFFFFFu);
    if (lo >= count) return;
    const long hi = lo + chunk < count ? lo + chunk : count;
    if (!atomic_compare_exchange_weak(&job.claim, &c, ((unsigned long long)number << 32) | (unsigned long long)hi)) continue;
    fn(ctx, lo, hi);
    atomic_fetch_add(&job.done, hi - lo);
    c = atomic_load(&job.claim);
  }
}

static void *worker(void *arg) {
  const int index = (int)(long)arg; /* 0-based among workers */
  unsigned seen = atomic_load(&job.seq);
  for (;;) {
    /* Wait for a new, completely written job: spin a while, then sleep. */
    unsigned s;
    long spin_start = 0;
    for (int i = 0;; i++) {
      s = atomic_load_explicit(&job.seq, memory_order_acquire);
      if (s != seen && !(s & 1)) break;
      if ((i & 255) == 255) {
        const long t = now_ns();
        if (!spin_start) spin_start = t;
        else if (t - spin_start > g_spin_ns) {
          pthread_mutex_lock(&sleep_mu);
          atomic_fetch_add(&sleepers, 1);
          while (atomic_load(&job.seq) == seen) pthread_cond_wait(&sleep_cv, &sleep_mu);
          atomic_fetch_sub(&sleepers, 1);
          pthread_mutex_unlock(&sleep_mu);
          spin_start = 0;
        }
      }
      cpu_relax();
    }
    seen = s;
    const tm_range_fn fn = atomic_load_explicit(&job.fn, memory_order_relaxed);
    void *ctx = atomic_load_explicit(&job.ctx, memory_order_relaxed);
    const long count = atomic_load_explicit(&job.count, memory_order_relaxed);
    const long chunk = atomic_load_explicit(&job.chunk, memory_order_relaxed);
    const int helpers = atomic_load_explicit(&job.helpers, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&job.seq, memory_order_relaxed) != s) continue; /* rewritten while copying: take the next one */
    if (index < helpers) run_chunks(s >> 1, fn, ctx, count, chunk);
  }
  return NULL;
}

static void ensure_workers(int n) {
  if (g_spin_ns < 0) {
    const char *e = getenv("TINYMORPH_SPIN_US");
    g_spin_ns = e && *e ? atol(e) * 1000L : SPIN_NS_DEFAULT;
  }
  for (; started < n; started++) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    const int err = pthread_create(&t, &attr, worker, (void *)(long)started);
    pthread_attr_destroy(&attr);
    if (err) break; /* fewer helpers; the caller still completes every job */
  }
}

void tm_parallel(int threads, long count, tm_range_fn fn, void *ctx) { tm_parallel_chunk(threads, count, 0, fn, ctx); }

void tm_parallel_chunk(int threads, long count, long chunk, tm_range_fn fn, void *ctx) {
  if (count <= 0) return;
  if (threads > count) threads = (int)count;
  if (threads <= 1 || atomic_flag_test_and_set(&busy)) {
    fn(ctx, 0, count);
    return;
  }
  ensure_workers(threads - 1);
  /* Default: four chunks per thread: balance when one thread runs slow, while each chunk stays a long stream. */
  if (chunk <= 0) chunk = count / (4L * threads) > 0 ? count / (4L * threads) : 1;
  const unsigned s = atomic_load(&job.seq); /* even: no job is being written */
  atomic_store(&job.seq, s + 1);
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&job.fn, fn, memory_order_relaxed);
  atomic_store_explicit(&job.ctx, ctx, memory_order_relaxed);
  atomic_store_explicit(&job.count, count, memory_order_relaxed);
  atomic_store_explicit(&job.chunk, chunk, memory_order_relaxed);
  atomic_store_explicit(&job.helpers, threads - 1 < started ? threads - 1 : started, memory_order_relaxed);
  atomic_store_explicit(&job.done, 0, memory_order_relaxed);
  const unsigned number = (s + 2) >> 1;
  atomic_store(&job.claim, (unsigned long long)number << 32);
  atomic_store(&job.seq, s + 2);
  if (atomic_load(&sleepers) > 0) {
    pthread_mutex_lock(&sleep_mu);
    pthread_cond_broadcast(&sleep_cv);
    pthread_mutex_unlock(&sleep_mu);
  }
  run_chunks(number, fn, ctx, count, chunk);
  /* Wait only for chunks a worker is running; yield so a worker sharing this core can finish. */
  for (int i = 0; atomic_load(&job.done) < count; i++) {
    if (i < 4096) cpu_relax();
    else sched_yield();
  }
  atomic_flag_clear(&busy);
}

#else

void tm_parallel(int threads, long count, tm_range_fn fn, void *ctx) {
  (void)threads;
  if (count > 0) fn(ctx, 0, count);
}

void tm_parallel_chunk(int threads, long count, long chunk, tm_range_fn fn, void *ctx) {
  (void)threads, (void)chunk;
  if (count > 0) fn(ctx, 0, count);
}

#endif

static _Thread_local struct {
  void *p;
  size_t n;
} scratch[TM_SCRATCH_SLOTS];

void *tm_scratch(int slot, size_t bytes) {
  if (scratch[slot].n < bytes) {
    const size_t n = (bytes + bytes / 4 + 63) & ~(size_t)63;
    free(scratch[slot].p);
    scratch[slot].p = aligned_alloc(64, n);
    scratch[slot].n = scratch[slot].p ? n : 0;
    if (!scratch[slot].p) {
      /* A few MB at most (packed GEMM panels, attention scores); failing here means the process is out of memory. */
      fprintf(stderr, "tinymorph native: cannot allocate %zu bytes of kernel scratch\n", n);
      abort();
    }
  }
  return scratch[slot].p;
}
