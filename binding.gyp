{
  "targets": [
    {
      "target_name": "runts_native",
      "sources": [
        "src/native/addon.cc",
        "src/native/spawn.cc",
        "src/native/plan-parse.cc",
        "src/native/seccomp.cc"
      ],
      "libraries": ["-lseccomp"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fno-exceptions"]
    },
    {
      "target_name": "runts-front",
      "type": "executable",
      "sources": ["src/front/front.c", "src/front/front-spawn.cc", "src/native/spawn.cc", "src/native/plan-parse.cc"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-O2", "-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fno-exceptions"],
      "ldflags": ["-static", "-s"]
    }
  ]
}
