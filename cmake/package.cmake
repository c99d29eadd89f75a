# cmake/package.cmake - CPack: the redistributable packages, made from the `cmake --install` tree
# (cmake/install.cmake) by scripts/package:
#   Windows (mingw-w64 build):  wipc-<version>-win64.zip          files at the zip's root: bin/ lib/ include/ ...
#   Linux:                      wipc-<version>-linux-x86_64.tar.gz (one top-level directory)
#                               wipc_<version>_amd64.deb           installs under /usr
# Run `cpack` in the build directory (scripts/package does, with -B <output dir>).

set(CPACK_PACKAGE_NAME wipc)
set(CPACK_PACKAGE_VENDOR "the wipc authors")
set(CPACK_PACKAGE_CONTACT "the wipc authors <dev@wipc.invalid>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Windows IPC (named pipes, shared memory, WM_COPYDATA) behind one stable C ABI")
set(CPACK_PACKAGE_DESCRIPTION
  "wipc wraps Named Pipes, shared-memory ring buffers and WM_COPYDATA messages (and their POSIX twins: \
AF_UNIX sockets, shm_open + futex, seqpacket sockets) behind opaque handles with message framing, \
request/reply and callbacks, for C, C# and Python programs. Same major version = same ABI.")
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_CURRENT_SOURCE_DIR}/LICENSE)
set(CPACK_RESOURCE_FILE_README ${CMAKE_CURRENT_SOURCE_DIR}/README.md)
set(CPACK_STRIP_FILES ON)                 # shipped binaries carry no debug info
set(CPACK_PACKAGE_CHECKSUM SHA256)        # <package>.sha256 beside each package
set(CPACK_VERBATIM_VARIABLES ON)

if(WIN32)
  set(CPACK_GENERATOR ZIP)
  set(CPACK_SYSTEM_NAME win64)
  set(CPACK_PACKAGE_FILE_NAME wipc-${PROJECT_VERSION}-win64)
  set(CPACK_INCLUDE_TOPLEVEL_DIRECTORY OFF) # bin/wipc.dll at the zip's root
else()
  set(CPACK_GENERATOR TGZ DEB)
  set(CPACK_SYSTEM_NAME linux-${CMAKE_SYSTEM_PROCESSOR})
  set(CPACK_PACKAGE_FILE_NAME wipc-${PROJECT_VERSION}-linux-${CMAKE_SYSTEM_PROCESSOR})
  set(CPACK_ARCHIVE_COMPONENT_INSTALL OFF)

  # .deb: one package holding the same files as the tarball, under /usr (the DEB generator's default
  # CPACK_PACKAGING_INSTALL_PREFIX; the tarball has them at its top-level directory).
  set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # wipc_1.1.0_amd64.deb
  set(CPACK_DEBIAN_PACKAGE_SECTION libs)
  set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
  set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)       # Depends: libc6 (>= ...) from dpkg-shlibdeps
  set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON) # DEBIAN/shlibs + the ldconfig trigger
  set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
endif()

include(CPack)
