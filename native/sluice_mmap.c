/*
 * sluice_mmap: the small native layer Sluice needs for memory-mapped CommitLog segments.
 *
 * Plain C against Node-API (NAPI_VERSION 8), no node-addon-api, so one binary serves every
 * Node major that supports N-API 8.
 *
 * Exports:
 *   map(fd, length, offset)            -> ArrayBuffer (external, MAP_SHARED, read/write)
 *   unmap(arrayBufferOrView)           -> boolean (true the first time; detaches, then munmaps)
 *   msync(view, off, len, sync)        -> undefined (MS_SYNC when sync, else MS_ASYNC)
 *   msyncAsync(view, off, len)         -> Promise<void> (MS_SYNC on the libuv thread pool)
 *   touchAsync(view, off, len)         -> Promise<void> (a user-space write access to every
 *                                         page, on the thread pool; data is never changed)
 *   prefaultReadAsync(view, off, len)  -> Promise<void> (faults every page in for reading, on
 *                                         the thread pool: cached, not dirtied)
 *   syncfsAsync(fd)                    -> Promise<void> (syncfs(2) of the file system holding fd,
 *                                         on the libuv thread pool)
 *   madvise(view, off, len, advice)    -> undefined ('willneed'|'sequential'|'dontneed'|'random'|'normal')
 *   mlock(view, off, len) / munlock(view, off, len)
 *   fallocate(fd, offset, len)         -> undefined (posix_fallocate when EOPNOTSUPP)
 *   fallocateAsync(fd, offset, len)    -> Promise<void> (the same on the libuv thread pool)
 *   crc32(bytes)                       -> number (IEEE CRC-32 as zlib.crc32; PCLMULQDQ on x86-64)
 *   mallocRetain(trim, mmapThreshold)  -> boolean (glibc mallopt M_TRIM_THRESHOLD and
 *                                         M_MMAP_THRESHOLD; false where malloc is not glibc's)
 *   PAGE_SIZE                          -> number
 *
 * Errors are thrown as Error objects carrying `code` (e.g. "ENOMEM"), `errno` and `syscall`,
 * in the style of Node's own fs errors.
 *
 * Lifetime of a mapping: a heap struct `mapping_t` is both the finalize hint of the external
 * ArrayBuffer and wrapped onto it (napi_wrap) so unmap() can find it. unmap() marks it
 * unmapped, removes the wrap, detaches the ArrayBuffer (every view then has length 0) and
 * munmaps immediately. The ArrayBuffer finalizer munmaps only when unmap() never ran, and is
 * the single place where the struct is freed.
 */
#define _GNU_SOURCE
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

typedef struct {
  void *addr;
  size_t len;
  int unmapped;
} mapping_t;

/* ---------------------------------------------------------------- error helpers */

#define NAPI_CALL(env, call)                                                   \
  do {                                                                         \
    napi_status status_ = (call);                                              \
    if (status_ != napi_ok) {                                                  \
      const napi_extended_error_info *info_ = NULL;                           \
      napi_get_last_error_info((env), &info_);                                 \
      bool pending_ = false;                                                   \
      napi_is_exception_pending((env), &pending_);                             \
      if (!pending_) {                                                         \
        napi_throw_error((env), "NATIVE_IO",                                   \
                         info_ && info_->error_message ? info_->error_message  \
                                                       : "N-API call failed"); \
      }                                                                        \
      return NULL;                                                             \
    }                                                                          \
  } while (0)

static const char *errno_code(int err) {
  const char *name = strerrorname_np(err);
  return name != NULL ? name : "EUNKNOWN";
}

/* Builds an Error like Node's: message "<code>: <text>, <syscall>", with code/errno/syscall. */
static napi_value make_errno_error(napi_env env, int err, const char *syscall) {
  char msg[256];
  const char *code = errno_code(err);
  snprintf(msg, sizeof msg, "%s: %s, %s", code, strerror(err), syscall);
  napi_value code_v, msg_v, error, errno_v, syscall_v;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_v);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &msg_v);
  napi_create_error(env, code_v, msg_v, &error);
  napi_create_int32(env, -err, &errno_v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_v);
  napi_set_named_property(env, error, "errno", errno_v);
  napi_set_named_property(env, error, "syscall", syscall_v);
  return error;
}

static napi_value throw_errno(napi_env env, int err, const char *syscall) {
  napi_throw(env, make_errno_error(env, err, syscall));
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

/* ---------------------------------------------------------------- argument helpers */

/* Reads a non-negative integer that fits a double exactly (< 2^53). Returns 0 on failure. */
static int get_size(napi_env env, napi_value v, int64_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return 0;
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return 0;
  if (!(d >= 0) || d > 9007199254740991.0 || d != (double)(int64_t)d) return 0;
  *out = (int64_t)d;
  return 1;
}

/*
 * Resolves an ArrayBuffer, TypedArray (incl. Buffer) or DataView to its data pointer and byte
 * length. Sets *ab to the underlying ArrayBuffer when asked. Returns 0 (with a pending
 * exception) when the value is none of those.
 */
static int get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len, napi_value *ab) {
  bool is;
  napi_value arraybuffer = NULL;
  size_t offset = 0;
  void *p = NULL;
  if (napi_is_arraybuffer(env, v, &is) == napi_ok && is) {
    if (napi_get_arraybuffer_info(env, v, &p, len) != napi_ok) return 0;
    arraybuffer = v;
  } else if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t count;
    if (napi_get_typedarray_info(env, v, &type, &count, &p, &arraybuffer, &offset) != napi_ok)
      return 0;
    size_t elem = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: elem = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
      default: elem = 1;
    }
    *len = count * elem;
  } else if (napi_is_dataview(env, v, &is) == napi_ok && is) {
    if (napi_get_dataview_info(env, v, len, &p, &arraybuffer, &offset) != napi_ok) return 0;
  } else {
    throw_type(env, "expected an ArrayBuffer, TypedArray, Buffer or DataView");
    return 0;
  }
  *data = (uint8_t *)p;
  if (ab != NULL) *ab = arraybuffer;
  return 1;
}

/* Resolves (view, off, len) to a page-aligned [start, start+span) range inside the view. */
static int get_range(napi_env env, napi_value *argv, size_t argc, uint8_t **start, size_t *span,
                     napi_value *ab) {
  uint8_t *data;
  size_t len;
  int64_t off, count;
  if (argc < 3) {
    throw_type(env, "expected (view, offset, length)");
    return 0;
  }
  if (!get_bytes(env, argv[0], &data, &len, ab)) return 0;
  if (!get_size(env, argv[1], &off) || !get_size(env, argv[2], &count)) {
    throw_type(env, "offset and length must be non-negative integers");
    return 0;
  }
  if ((uint64_t)off + (uint64_t)count > len) {
    throw_range(env, "offset + length is beyond the end of the view (was it unmapped?)");
    return 0;
  }
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t a = (uintptr_t)(data + off);
  uintptr_t aligned = a & ~((uintptr_t)page - 1);
  *start = (uint8_t *)aligned;
  *span = (size_t)count + (size_t)(a - aligned);
  return 1;
}

/* ---------------------------------------------------------------- map / unmap */

static void finalize_mapping(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  mapping_t *m = (mapping_t *)hint;
  if (!m->unmapped) {
    munmap(m->addr, m->len);
    m->unmapped = 1;
  }
  free(m);
}

static napi_value js_map(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  int64_t length, offset;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    return throw_type(env, "map(fd, length, offset): fd must be an integer");
  }
  if (!get_size(env, argv[1], &length) || !get_size(env, argv[2], &offset) || length == 0) {
    return throw_type(env, "map(fd, length, offset): length (> 0) and offset must be integers");
  }
  void *addr = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
  if (addr == MAP_FAILED) return throw_errno(env, errno, "mmap");
  mapping_t *m = (mapping_t *)calloc(1, sizeof(mapping_t));
  if (m == NULL) {
    munmap(addr, (size_t)length);
    return throw_errno(env, ENOMEM, "malloc");
  }
  m->addr = addr;
  m->len = (size_t)length;
  napi_value ab;
  napi_status st =
      napi_create_external_arraybuffer(env, addr, (size_t)length, finalize_mapping, m, &ab);
  if (st != napi_ok) {
    munmap(addr, (size_t)length);
    free(m);
    NAPI_CALL(env, st);
  }
  NAPI_CALL(env, napi_wrap(env, ab, m, NULL, NULL, NULL));
  return ab;
}

static napi_value js_unmap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_value result;
  if (argc < 1) return throw_type(env, "unmap(arrayBuffer): argument missing");
  uint8_t *data;
  size_t len;
  napi_value ab = NULL;
  if (!get_bytes(env, argv[0], &data, &len, &ab)) return NULL;
  void *raw = NULL;
  if (ab == NULL || napi_unwrap(env, ab, &raw) != napi_ok || raw == NULL) {
    /* Never mapped by us, or already unmapped: idempotent no-op. */
    NAPI_CALL(env, napi_get_boolean(env, false, &result));
    return result;
  }
  mapping_t *m = (mapping_t *)raw;
  void *addr = m->addr;
  size_t mlen = m->len;
  m->unmapped = 1;
  NAPI_CALL(env, napi_remove_wrap(env, ab, NULL));
  /* After this line the struct may already be freed by the finalizer: do not touch m. */
  NAPI_CALL(env, napi_detach_arraybuffer(env, ab));
  if (munmap(addr, mlen) != 0) return throw_errno(env, errno, "munmap");
  NAPI_CALL(env, napi_get_boolean(env, true, &result));
  return result;
}

/* ---------------------------------------------------------------- msync */

static napi_value js_msync(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *start;
  size_t span;
  if (!get_range(env, argv, argc, &start, &span, NULL)) return NULL;
  bool sync = true;
  if (argc >= 4) NAPI_CALL(env, napi_get_value_bool(env, argv[3], &sync));
  if (span > 0 && msync(start, span, sync ? MS_SYNC : MS_ASYNC) != 0) {
    return throw_errno(env, errno, "msync");
  }
  return NULL;
}

/* What a thread-pool job does. */
typedef enum {
  JOB_MSYNC = 0,
  JOB_SYNCFS = 2,
  JOB_FALLOCATE = 3,
  JOB_TOUCH = 4,
  JOB_PREFAULT_READ = 5
} job_kind_t;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref view_ref; /* NULL for JOB_SYNCFS and JOB_FALLOCATE */
  uint8_t *start;
  size_t span;
  job_kind_t kind;
  int fd;              /* JOB_SYNCFS and JOB_FALLOCATE */
  int64_t file_offset; /* JOB_FALLOCATE */
  int64_t file_length; /* JOB_FALLOCATE */
  int err;
} msync_job_t;

/* fallocate(2), or posix_fallocate(3) where the file system does not support it; 0 or errno. */
static int allocate_range(int fd, int64_t offset, int64_t len) {
  if (fallocate(fd, 0, (off_t)offset, (off_t)len) == 0) return 0;
  int err = errno;
  if (err != EOPNOTSUPP) return err;
  return posix_fallocate(fd, (off_t)offset, (off_t)len);
}

/*
 * Stores into every page of [start, start+span) from user space: an atomic OR of 0 into one
 * aligned word per page, a write access that cannot lose a concurrent store to the same word.
 */
static void touch_pages(uint8_t *start, size_t span) {
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t p = ((uintptr_t)start + 3) & ~(uintptr_t)3;
  for (; p + 4 <= (uintptr_t)start + span; p = (p & ~((uintptr_t)page - 1)) + (uintptr_t)page) {
    __atomic_fetch_or((uint32_t *)p, 0u, __ATOMIC_RELAXED);
  }
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

/*
 * Faults every page of [start, start+span) in for reading: the file's pages are brought into
 * the page cache (zero-filled where the blocks are allocated but unwritten) and mapped
 * read-only, so they stay clean and the kernel has nothing to write back. The first store to
 * each page still takes a write-protect fault. MADV_POPULATE_READ (Linux 5.14+), or a load from
 * each page on older kernels.
 */
static void prefault_readable(uint8_t *start, size_t span) {
  if (span == 0) return;
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t first = (uintptr_t)start & ~((uintptr_t)page - 1);
  if (madvise((void *)first, (size_t)((uintptr_t)start + span - first), MADV_POPULATE_READ) == 0) {
    return;
  }
  for (uintptr_t p = (uintptr_t)start; p < (uintptr_t)start + span;
       p = (p & ~((uintptr_t)page - 1)) + (uintptr_t)page) {
    (void)*(volatile uint8_t *)p;
  }
}

static void run_job(msync_job_t *job) {
  job->err = 0;
  if (job->kind == JOB_SYNCFS) {
    if (syncfs(job->fd) != 0) job->err = errno;
    return;
  }
  if (job->kind == JOB_FALLOCATE) {
    job->err = allocate_range(job->fd, job->file_offset, job->file_length);
    return;
  }
  if (job->kind == JOB_PREFAULT_READ) {
    prefault_readable(job->start, job->span);
    return;
  }
  if (job->kind == JOB_TOUCH) {
    touch_pages(job->start, job->span);
    return;
  }
  if (job->span > 0 && msync(job->start, job->span, MS_SYNC) != 0) job->err = errno;
}

/*
 * Scheduling of the thread-pool threads that run these jobs. A job is queued by the event loop
 * (uv_queue_work signals a condition variable); on Linux the woken pool thread is often placed on
 * the event loop's own CPU and, as an ordinary SCHED_OTHER thread, preempts it there at once: the
 * event loop then waits out the whole job (a 1 MiB pre-fault, ~150-250 us) inside the call that
 * queued it. A SCHED_BATCH thread is never woken "preemptively" (its preemption is driven by the
 * tick), and is otherwise scheduled with the same fair share. So a pool thread that finished one
 * of these jobs goes back to waiting as SCHED_BATCH, and is made SCHED_OTHER again while it runs
 * the next one (an msync that wakes from disk I/O should still get the CPU promptly). Threads
 * whose policy is not SCHED_OTHER or SCHED_BATCH (real-time, SCHED_IDLE: set by the operator) are
 * left alone, and a failed call changes nothing. (Node's own jobs on such a thread run as
 * SCHED_BATCH too: they are file-system calls that no one waits on from a tight loop.)
 * Measured (store: putMessageNow with dispatch, async flush): the event loop's time inside
 * the call queueing the pre-fault (then MADV_POPULATE_WRITE) went from 0.19 to 0.04 us per put.
 */
static __thread int pool_policy_checked;
static __thread int pool_policy_managed;

static void pool_thread_begin_job(void) {
  if (!pool_policy_checked) {
    int policy = sched_getscheduler(0);
    pool_policy_managed = policy == SCHED_OTHER || policy == SCHED_BATCH;
    pool_policy_checked = 1;
  }
  if (pool_policy_managed) {
    struct sched_param sp = {0};
    (void)sched_setscheduler(0, SCHED_OTHER, &sp);
  }
}

static void pool_thread_end_job(void) {
  if (pool_policy_managed) {
    struct sched_param sp = {0};
    (void)sched_setscheduler(0, SCHED_BATCH, &sp);
  }
}

static void msync_execute(napi_env env, void *data) {
  (void)env;
  pool_thread_begin_job();
  run_job((msync_job_t *)data);
  pool_thread_end_job();
}

static void msync_complete(napi_env env, napi_status status, void *data) {
  msync_job_t *job = (msync_job_t *)data;
  if (status != napi_ok && job->err == 0) job->err = ECANCELED;
  if (job->err != 0) {
    napi_reject_deferred(env, job->deferred,
                         make_errno_error(env, job->err,
                                          job->kind == JOB_SYNCFS      ? "syncfs"
                                          : job->kind == JOB_PREFAULT_READ ? "prefault"
                                          : job->kind == JOB_TOUCH     ? "touch"
                                          : job->kind == JOB_FALLOCATE ? "fallocate"
                                                                       : "msync"));
  } else {
    napi_value undef;
    napi_get_undefined(env, &undef);
    napi_resolve_deferred(env, job->deferred, undef);
  }
  if (job->view_ref != NULL) napi_delete_reference(env, job->view_ref);
  napi_delete_async_work(env, job->work);
  free(job);
}

/* Queues `job` (its kind and inputs set) on the libuv thread pool; returns its promise. */
static napi_value queue_job(napi_env env, msync_job_t *job, const char *resource_name) {
  napi_value promise, name;
  NAPI_CALL(env, napi_create_promise(env, &job->deferred, &promise));
  NAPI_CALL(env, napi_create_string_utf8(env, resource_name, NAPI_AUTO_LENGTH, &name));
  NAPI_CALL(env, napi_create_async_work(env, NULL, name, msync_execute, msync_complete, job,
                                        &job->work));
  NAPI_CALL(env, napi_queue_async_work(env, job->work));
  return promise;
}

static napi_value start_async_job(napi_env env, napi_callback_info info, job_kind_t kind) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *start;
  size_t span;
  if (!get_range(env, argv, argc, &start, &span, NULL)) return NULL;
  msync_job_t *job = (msync_job_t *)calloc(1, sizeof(msync_job_t));
  if (job == NULL) return throw_errno(env, ENOMEM, "malloc");
  job->start = start;
  job->span = span;
  job->kind = kind;
  NAPI_CALL(env, napi_create_reference(env, argv[0], 1, &job->view_ref));
  return queue_job(env, job, "sluice.msync");
}

static napi_value js_msync_async(napi_env env, napi_callback_info info) {
  return start_async_job(env, info, JOB_MSYNC);
}

static napi_value js_prefault_read_async(napi_env env, napi_callback_info info) {
  return start_async_job(env, info, JOB_PREFAULT_READ);
}

static napi_value js_touch_async(napi_env env, napi_callback_info info) {
  return start_async_job(env, info, JOB_TOUCH);
}

/*
 * syncfs(fd) on the thread pool: one call makes every dirty page and the journal of the file
 * system durable, where fsyncing tens of thousands of small ConsumeQueue files one by one cost
 * ~0.2 ms each.
 */
static napi_value js_syncfs_async(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "syncfsAsync(fd): fd must be a descriptor");
    return NULL;
  }
  msync_job_t *job = (msync_job_t *)calloc(1, sizeof(msync_job_t));
  if (job == NULL) return throw_errno(env, ENOMEM, "malloc");
  job->kind = JOB_SYNCFS;
  job->fd = fd;
  return queue_job(env, job, "sluice.syncfs");
}

/* ---------------------------------------------------------------- madvise / mlock */

static napi_value js_madvise(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *start;
  size_t span;
  if (!get_range(env, argv, argc, &start, &span, NULL)) return NULL;
  char advice[16] = {0};
  size_t n = 0;
  if (argc < 4 ||
      napi_get_value_string_utf8(env, argv[3], advice, sizeof advice, &n) != napi_ok) {
    return throw_type(env, "madvise: advice must be a string");
  }
  int adv;
  if (strcmp(advice, "willneed") == 0) adv = MADV_WILLNEED;
  else if (strcmp(advice, "sequential") == 0) adv = MADV_SEQUENTIAL;
  else if (strcmp(advice, "dontneed") == 0) adv = MADV_DONTNEED;
  else if (strcmp(advice, "random") == 0) adv = MADV_RANDOM;
  else if (strcmp(advice, "normal") == 0) adv = MADV_NORMAL;
  else return throw_type(env, "madvise: advice must be willneed|sequential|dontneed|random|normal");
  if (span > 0 && madvise(start, span, adv) != 0) return throw_errno(env, errno, "madvise");
  return NULL;
}

static napi_value lock_common(napi_env env, napi_callback_info info, int lock) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *start;
  size_t span;
  if (!get_range(env, argv, argc, &start, &span, NULL)) return NULL;
  if (span == 0) return NULL;
  int rc = lock ? mlock(start, span) : munlock(start, span);
  if (rc != 0) return throw_errno(env, errno, lock ? "mlock" : "munlock");
  return NULL;
}

static napi_value js_mlock(napi_env env, napi_callback_info info) {
  return lock_common(env, info, 1);
}

static napi_value js_munlock(napi_env env, napi_callback_info info) {
  return lock_common(env, info, 0);
}

/* ---------------------------------------------------------------- fallocate */

/*
 * Reads the (fd, offset, length) arguments of fallocate and fallocateAsync; false (with a
 * TypeError thrown, `usage` as its message) when they are not integers with length > 0, or, with
 * `reject_negative_fd`, when fd < 0 (the thread-pool job must not get one; the synchronous call
 * reports EBADF from the kernel instead).
 */
static bool get_fallocate_args(napi_env env, napi_callback_info info, const char *usage,
                               bool reject_negative_fd, int32_t *fd, int64_t *offset,
                               int64_t *len) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_value_int32(env, argv[0], fd) != napi_ok || (reject_negative_fd && *fd < 0) ||
      !get_size(env, argv[1], offset) || !get_size(env, argv[2], len) || *len == 0) {
    throw_type(env, usage);
    return false;
  }
  return true;
}

static napi_value js_fallocate(napi_env env, napi_callback_info info) {
  int32_t fd;
  int64_t offset, len;
  if (!get_fallocate_args(env, info, "fallocate(fd, offset, length): integers expected, length > 0",
                          false, &fd, &offset, &len)) {
    return NULL;
  }
  int err = allocate_range(fd, offset, len);
  if (err != 0) return throw_errno(env, err, "fallocate");
  return NULL;
}

/*
 * fallocate on the thread pool: under write-back load the call waits for the file system's
 * journal (~250 ms was seen in a broker profile), which must not happen on the event loop.
 * Keep `fd` open until the promise settles.
 */
static napi_value js_fallocate_async(napi_env env, napi_callback_info info) {
  int32_t fd;
  int64_t offset, len;
  if (!get_fallocate_args(env, info,
                          "fallocateAsync(fd, offset, length): integers expected, length > 0",
                          true, &fd, &offset, &len)) {
    return NULL;
  }
  msync_job_t *job = (msync_job_t *)calloc(1, sizeof(msync_job_t));
  if (job == NULL) return throw_errno(env, ENOMEM, "malloc");
  job->kind = JOB_FALLOCATE;
  job->fd = fd;
  job->file_offset = offset;
  job->file_length = len;
  return queue_job(env, job, "sluice.fallocate");
}


/* ---------------------------------------------------------------- crc32 (IEEE, as zlib) */

/*
 * CRC-32 (reflected polynomial 0xEDB88320, zlib's) with carry-less multiplication: the input is
 * folded 64 bytes at a time into four 128-bit lanes, then into one, then reduced with Barrett
 * reduction (the method of Intel's "Fast CRC Computation Using PCLMULQDQ" paper; constants for
 * the reflected IEEE polynomial). Bytes not covered (len < 64, or the < 16-byte tail) go through
 * a byte-wise table. Node's own zlib.crc32 does not use PCLMULQDQ here (about 2.7 GB/s).
 */
static uint32_t crc_table[256];

static void crc_table_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

/* Raw (no pre/post inversion) byte-wise update. */
static uint32_t crc_bytes(uint32_t crc, const uint8_t *p, size_t len) {
  while (len--) crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
#include <immintrin.h>
static int have_pclmul = 0;

#define FOLD(x, k, data)                                       \
  do {                                                         \
    __m128i hi_ = _mm_clmulepi64_si128((x), (k), 0x11);        \
    (x) = _mm_clmulepi64_si128((x), (k), 0x00);                \
    (x) = _mm_xor_si128(_mm_xor_si128((x), hi_), (data));      \
  } while (0)

/* Raw update over len bytes (len >= 64, multiple of 16). */
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc_pclmul(uint32_t crc,
                                                                     const uint8_t *p,
                                                                     size_t len) {
  const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596LL, 0x154442bd4LL);
  const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009eLL, 0x1751997d0LL);
  const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124LL);
  const __m128i poly = _mm_set_epi64x(0x1f7011641LL, 0x1db710641LL);
  const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
  __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 0));
  __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 16));
  __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 32));
  __m128i x4 = _mm_loadu_si128((const __m128i *)(p + 48));
  x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
  p += 64;
  len -= 64;
  while (len >= 64) {
    FOLD(x1, k1k2, _mm_loadu_si128((const __m128i *)(p + 0)));
    FOLD(x2, k1k2, _mm_loadu_si128((const __m128i *)(p + 16)));
    FOLD(x3, k1k2, _mm_loadu_si128((const __m128i *)(p + 32)));
    FOLD(x4, k1k2, _mm_loadu_si128((const __m128i *)(p + 48)));
    p += 64;
    len -= 64;
  }
  FOLD(x1, k3k4, x2);
  FOLD(x1, k3k4, x3);
  FOLD(x1, k3k4, x4);
  while (len >= 16) {
    FOLD(x1, k3k4, _mm_loadu_si128((const __m128i *)p));
    p += 16;
    len -= 16;
  }
  /* 128 -> 64 bits: (x1 >> 64) ^ (x1.lo * k4) */
  __m128i t = _mm_clmulepi64_si128(x1, k3k4, 0x10);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t);
  /* 64 -> 32 bits */
  t = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), k5, 0x00);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 4), t);
  /* Barrett reduction */
  t = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), poly, 0x10);
  t = _mm_clmulepi64_si128(_mm_and_si128(t, mask32), poly, 0x00);
  x1 = _mm_xor_si128(x1, t);
  return (uint32_t)_mm_extract_epi32(x1, 1);
}
#endif

static uint32_t crc32_ieee(uint32_t init, const uint8_t *p, size_t len) {
  uint32_t crc = ~init;
#if defined(__x86_64__)
  if (have_pclmul && len >= 64) {
    size_t n = len & ~(size_t)15;
    crc = crc_pclmul(crc, p, n);
    p += n;
    len -= n;
  }
#endif
  crc = crc_bytes(crc, p, len);
  return ~crc;
}

static napi_value js_crc32(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return throw_type(env, "crc32(bytes): argument missing");
  uint8_t *data;
  size_t len;
  if (!get_bytes(env, argv[0], &data, &len, NULL)) return NULL;
  napi_value out;
  NAPI_CALL(env, napi_create_uint32(env, crc32_ieee(0, data, len), &out));
  return out;
}

/*
 * mallocRetain(trimThresholdBytes, mmapThresholdBytes): makes glibc's malloc keep freed memory in
 * the process (M_TRIM_THRESHOLD: free bytes at the top of a heap before they are given back;
 * M_MMAP_THRESHOLD: requests at least this big get a mapping of their own, which free() unmaps;
 * setting either also stops glibc from moving these limits itself). Returns true when both were
 * set; false when malloc is not glibc's or mallopt refused a value (a 32-bit glibc caps the mmap
 * threshold far lower): keeping memory is an optimisation, never a reason to fail.
 */
static napi_value js_malloc_retain(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t values[2];
  for (size_t i = 0; i < 2; i++) {
    if (i >= argc || !get_size(env, argv[i], &values[i]) || values[i] > INT32_MAX) {
      return throw_type(env, "mallocRetain(trim, mmapThreshold): byte counts below 2^31");
    }
  }
  bool applied = false;
#ifdef __GLIBC__
  applied = mallopt(M_TRIM_THRESHOLD, (int)values[0]) == 1;
  applied = mallopt(M_MMAP_THRESHOLD, (int)values[1]) == 1 && applied;
#endif
  napi_value out;
  NAPI_CALL(env, napi_get_boolean(env, applied, &out));
  return out;
}

/* ---------------------------------------------------------------- module init */

static napi_value init(napi_env env, napi_value exports) {
  crc_table_init();
#if defined(__x86_64__)
  __builtin_cpu_init();
  have_pclmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
#endif
  napi_property_descriptor props[] = {
      {"map", NULL, js_map, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unmap", NULL, js_unmap, NULL, NULL, NULL, napi_enumerable, NULL},
      {"msync", NULL, js_msync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"msyncAsync", NULL, js_msync_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"syncfsAsync", NULL, js_syncfs_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"touchAsync", NULL, js_touch_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"prefaultReadAsync", NULL, js_prefault_read_async, NULL, NULL, NULL, napi_enumerable,
       NULL},
      {"madvise", NULL, js_madvise, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mlock", NULL, js_mlock, NULL, NULL, NULL, napi_enumerable, NULL},
      {"munlock", NULL, js_munlock, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fallocate", NULL, js_fallocate, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fallocateAsync", NULL, js_fallocate_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"crc32", NULL, js_crc32, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mallocRetain", NULL, js_malloc_retain, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  napi_value page;
  NAPI_CALL(env, napi_create_int32(env, (int32_t)sysconf(_SC_PAGESIZE), &page));
  NAPI_CALL(env, napi_set_named_property(env, exports, "PAGE_SIZE", page));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
