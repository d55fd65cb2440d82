#ifndef TINYMORPH_MAP_FILE_H
#define TINYMORPH_MAP_FILE_H
#include <node_api.h>

/* mapFile(fd, offset, bytes) → ArrayBuffer (native/map-file.c; POSIX only). */
napi_value MapFile(napi_env env, napi_callback_info info);

#endif
