{
  "targets": [
    {
      "target_name": "sluice_mmap",
      "sources": ["native/sluice_mmap.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
