/*
 * Model files mapped into memory (as llama2.c run.c does), so that weights are views of the page
 * cache: no copy, no read of pages a run never touches, no 2 GiB read limit, one copy in RAM for
 * every process using the same file. The mapping is private and writable: a write (an in-place
 * weight edit) copies that page for this process only (copy-on-write) instead of faulting on a
 * read-only page or reaching the file, which the caller opened read-only. POSIX only: on Windows
 * the addon has no mapFile and the loader reads the file.
 */
#ifndef _WIN32
#include <errno.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "map-file.h"

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

static int whole(double v) { return v >= 0 && v <= 9007199254740991.0 && v == (double)(uint64_t)v && (uint64_t)v <= SIZE_MAX; }

/*
 * mapFile(fd, offset, bytes): an ArrayBuffer over `bytes` bytes of the open file fd from `offset`
 * (a multiple of the page size), unmapped when collected. Node limits such a buffer to 4 GiB: the
 * caller maps larger files in windows.
 */
napi_value MapFile(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t fd = -1;
  double offset = -1, bytes = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_double(env, argv[1], &offset) != napi_ok || napi_get_value_double(env, argv[2], &bytes) != napi_ok) {
    napi_throw_type_error(env, NULL, "mapFile: expected (fd, offset, bytes) numbers");
    return NULL;
  }
  if (fd < 0 || !whole(offset) || !whole(bytes) || bytes < 1) {
    napi_throw_range_error(env, NULL, "mapFile: fd, offset and bytes must be integers ≥ 0 (bytes ≥ 1)");
    return NULL;
  }
  if ((uint64_t)offset % (uint64_t)sysconf(_SC_PAGESIZE) != 0) {
    napi_throw_range_error(env, NULL, "mapFile: offset must be a multiple of the page size");
    return NULL;
  }
  size_t len = (size_t)bytes;
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)offset);
  if (p == MAP_FAILED) {
    napi_throw_error(env, NULL, strerror(errno));
    return NULL;
  }
  napi_value ab;
  if (napi_create_external_arraybuffer(env, p, len, unmap, (void *)(uintptr_t)len, &ab) != napi_ok) {
    munmap(p, len);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, NULL, "cannot wrap the mapping in an ArrayBuffer");
    return NULL;
  }
  return ab;
}
#endif
