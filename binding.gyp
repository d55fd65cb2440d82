{
  "targets": [
    {
      "target_name": "tinymorph_native",
      "sources": [
        "native/addon.c",
        "native/threads.c",
        "native/matmul.c",
        "native/q80-decode.c",
        "native/gemm.c",
        "native/attention.c",
        "native/elementwise.c",
        "native/topk.c",
        "native/encode-topk.c",
        "native/sparse-rows.c",
        "native/sparse-decode-backward.c",
        "native/training-passes.c",
        "native/map-file.c"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags!": ["-O2"],
      "cflags": ["-O3", "-march=native", "-pthread", "-fno-math-errno", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-O3", "-march=native", "-std=gnu11"]
      }
    }
  ]
}
