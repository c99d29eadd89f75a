# cmake/mingw-w64.cmake — cross-compile wipc for 64-bit Windows with Debian's mingw-w64,
# and run the resulting .exe tests under Wine (ctest uses CMAKE_CROSSCOMPILING_EMULATOR).
#
#   scripts/build-cmocka-mingw                     # once: cmocka for the target, in build/deps/cmocka-mingw
#   cmake -S . -B build/mingw -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake
#   cmake --build build/mingw && ctest --test-dir build/mingw
#
# Packages (scripts/deps): gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 binutils-mingw-w64-x86-64
# wine wine64. Debian's default x86_64-w64-mingw32-gcc is the "win32" thread-model variant;
# pthread functions still need Threads::Threads / -lpthread (winpthread, linked statically here).
#
# Cache variables:
#   MINGW_TRIPLE            tool prefix (default x86_64-w64-mingw32)
#   WIPC_MINGW_DEPS_PREFIX  extra target prefixes searched by find_package/find_library
#                           (default <repo>/build/deps/cmocka-mingw, from scripts/build-cmocka-mingw)

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(MINGW_TRIPLE x86_64-w64-mingw32 CACHE STRING "mingw-w64 target triple / tool prefix")

get_filename_component(_wipc_repo_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

if(NOT CMAKE_C_COMPILER)
  set(CMAKE_C_COMPILER ${MINGW_TRIPLE}-gcc)
endif()
if(NOT CMAKE_CXX_COMPILER)
  set(CMAKE_CXX_COMPILER ${MINGW_TRIPLE}-g++)
endif()
if(NOT CMAKE_RC_COMPILER)
  set(CMAKE_RC_COMPILER ${MINGW_TRIPLE}-windres)
endif()

# Target libraries/headers/packages only from the mingw sysroot and the project's own
# cross-built deps; host programs (python, swig, ...) from the host.
set(WIPC_MINGW_DEPS_PREFIX "${_wipc_repo_root}/build/deps/cmocka-mingw" CACHE STRING
    "Extra prefixes (;-list) holding libraries cross-built for the mingw target")
set(CMAKE_FIND_ROOT_PATH /usr/${MINGW_TRIPLE} ${WIPC_MINGW_DEPS_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (FindPkgConfig) must see the target's .pc files, never the host's.
set(_wipc_pc "")
foreach(_p IN LISTS WIPC_MINGW_DEPS_PREFIX)
  string(APPEND _wipc_pc "${_p}/lib/pkgconfig:")
endforeach()
set(ENV{PKG_CONFIG_LIBDIR} "${_wipc_pc}/usr/${MINGW_TRIPLE}/lib/pkgconfig")
unset(ENV{PKG_CONFIG_PATH})

# No libgcc_s_seh-1.dll / libwinpthread-1.dll / libstdc++-6.dll at run time: link the
# compiler runtime and winpthread statically into every .exe and .dll. With mingw-w64
# "-static" is right for DLLs too: the system import libraries (libkernel32.a, libuser32.a,
# ...) are import libraries whatever the flag, so KERNEL32.dll, msvcrt.dll, USER32.dll,
# ADVAPI32.dll stay dynamic imports. Check: x86_64-w64-mingw32-objdump -p x.dll | grep 'DLL Name'
set(CMAKE_EXE_LINKER_FLAGS_INIT    "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static")

# add_test() and ctest run target .exe files through Wine (headless, exit code passed on).
set(CMAKE_CROSSCOMPILING_EMULATOR "${_wipc_repo_root}/scripts/wine-run" CACHE FILEPATH
    "Runs Windows programs on the build host (scripts/wine-run)")
