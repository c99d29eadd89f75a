# cmake/install.cmake - what `cmake --install` puts where, for users of the library.
# Included once, last, from the root CMakeLists.txt. CPack (zip / tar.gz / .deb) is in cmake/package.cmake,
# included at the end of this file.
#
#   Linux (prefix /usr/local, /usr, or an unpacked tarball)     Windows (the root of wipc-<ver>-win64.zip)
#   include/wipc.h                                              include/wipc.h
#   lib/libwipc.so.1.1.0, libwipc.so.1 (SONAME), libwipc.so    bin/wipc.dll, lib/libwipc.dll.a, lib/wipc.lib
#   bin/wipc (the CLI)                                          bin/wipc.exe
#   lib/cmake/wipc/wipcConfig.cmake, ...ConfigVersion.cmake,     (same)
#     wipcTargets*.cmake  -> find_package(wipc 1.0 CONFIG), target wipc::wipc
#   lib/pkgconfig/wipc.pc                                       lib/pkgconfig/wipc.pc
#   share/wipc/wipc.def                                         wipc.def
#   share/wipc/csharp/*.cs (C# binding, when built)             csharp/*.cs (+ bin/wipc_csharp.dll when built)
#   share/doc/wipc/README.md, LICENSE                           README.md, LICENSE
#
# wipc.lib is an MSVC-style import library made from wipc.def with <triple>-dlltool (for link.exe users;
# mingw users take libwipc.dll.a, both name wipc.dll).
#
# Cache variables:
#   WIPC_CSHARP_SOURCE_DIRS  directories whose *.cs files are the C# binding (hand-written + SWIG-generated)
#                            (default: <src>/bindings/csharp and <build>/bindings/csharp). The win64 build
#                            does not run SWIG: scripts/package points it at the Linux build's sources.
#   WIPC_CSHARP_NATIVE_FILES extra native files of the C# binding to install (e.g. a wipc_csharp.dll
#                            cross-built elsewhere); a target named wipc_csharp is installed by itself.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(WIN32)
  set(WIPC_INSTALL_DOCDIR    .)
  set(WIPC_INSTALL_DATADIR   .)
  set(WIPC_INSTALL_CSHARPDIR csharp)
else()
  set(WIPC_INSTALL_DOCDIR    ${CMAKE_INSTALL_DATADIR}/doc/wipc)
  set(WIPC_INSTALL_DATADIR   ${CMAKE_INSTALL_DATADIR}/wipc)
  set(WIPC_INSTALL_CSHARPDIR ${CMAKE_INSTALL_DATADIR}/wipc/csharp)
endif()
set(WIPC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/wipc)

# --- the library, its header, the CLI ------------------------------------------------------------
install(TARGETS wipc EXPORT wipcTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}     # libwipc.so.1.1.0 + the libwipc.so.1 / libwipc.so links
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})    # libwipc.dll.a
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/include/wipc.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/wipc.def DESTINATION ${WIPC_INSTALL_DATADIR})
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/README.md ${CMAKE_CURRENT_SOURCE_DIR}/LICENSE
        DESTINATION ${WIPC_INSTALL_DOCDIR})

if(TARGET wipc_cli)
  if(NOT WIN32)
    # bin/wipc finds lib/libwipc.so.1 of its own tree wherever the tarball is unpacked.
    file(RELATIVE_PATH _wipc_bin_to_lib /${CMAKE_INSTALL_BINDIR} /${CMAKE_INSTALL_LIBDIR})
    set_target_properties(wipc_cli PROPERTIES INSTALL_RPATH "$ORIGIN/${_wipc_bin_to_lib}")
  endif()
  install(TARGETS wipc_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# --- MSVC import library from wipc.def -----------------------------------------------------------
if(WIN32)
  if(NOT MINGW_TRIPLE)
    set(MINGW_TRIPLE x86_64-w64-mingw32)
  endif()
  find_program(WIPC_DLLTOOL NAMES ${MINGW_TRIPLE}-dlltool dlltool REQUIRED)
  if(CMAKE_SIZEOF_VOID_P EQUAL 8)
    set(_wipc_machine i386:x86-64)
  else()
    set(_wipc_machine i386)
  endif()
  set(WIPC_MSVC_IMPLIB ${CMAKE_CURRENT_BINARY_DIR}/wipc.lib)
  add_custom_command(OUTPUT ${WIPC_MSVC_IMPLIB}
    COMMAND ${WIPC_DLLTOOL} --machine ${_wipc_machine} --input-def ${CMAKE_CURRENT_SOURCE_DIR}/wipc.def
            --dllname wipc.dll --output-lib wipc.lib
    WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}   # member names wipc_lib_*.o, not the build path
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/wipc.def
    COMMENT "Making the MSVC import library wipc.lib from wipc.def")
  add_custom_target(wipc_msvc_implib ALL DEPENDS ${WIPC_MSVC_IMPLIB})
  install(FILES ${WIPC_MSVC_IMPLIB} DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()

# --- C# binding: sources (and its native glue library when it is built) ---------------------------
set(WIPC_CSHARP_SOURCE_DIRS "${CMAKE_CURRENT_SOURCE_DIR}/bindings/csharp;${CMAKE_CURRENT_BINARY_DIR}/bindings/csharp"
    CACHE STRING "Directories whose *.cs files (not recursive) are the shipped C# binding")
set(WIPC_CSHARP_NATIVE_FILES "" CACHE STRING "Extra native files of the C# binding to ship (bin/ on Windows, lib/ elsewhere)")
# Looked up at install time: SWIG writes the generated sources during the build.
install(CODE "
  set(_cs \"\")
  foreach(_d IN ITEMS ${WIPC_CSHARP_SOURCE_DIRS})
    file(GLOB _f LIST_DIRECTORIES false \"\${_d}/*.cs\")
    list(APPEND _cs \${_f})
  endforeach()
  if(_cs)
    file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${WIPC_INSTALL_CSHARPDIR}\" TYPE FILE FILES \${_cs})
  else()
    message(STATUS \"wipc install: no C# binding sources in ${WIPC_CSHARP_SOURCE_DIRS}\")
  endif()
")
if(TARGET wipc_csharp)
  if(NOT WIN32)
    set_target_properties(wipc_csharp PROPERTIES INSTALL_RPATH "$ORIGIN")
  endif()
  install(TARGETS wipc_csharp RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
if(WIPC_CSHARP_NATIVE_FILES)
  if(WIN32)
    install(PROGRAMS ${WIPC_CSHARP_NATIVE_FILES} DESTINATION ${CMAKE_INSTALL_BINDIR})
  else()
    install(PROGRAMS ${WIPC_CSHARP_NATIVE_FILES} DESTINATION ${CMAKE_INSTALL_LIBDIR})
  endif()
endif()

# --- CMake package: find_package(wipc 1.0 CONFIG) -> wipc::wipc ----------------------------------
install(EXPORT wipcTargets NAMESPACE wipc:: DESTINATION ${WIPC_INSTALL_CMAKEDIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/wipcConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/wipcConfig.cmake INSTALL_DESTINATION ${WIPC_INSTALL_CMAKEDIR})
# Same major = ABI compatible (README "ABI policy"); a 1.x build satisfies find_package(wipc 1.0).
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/wipcConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/wipcConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/wipcConfigVersion.cmake
        DESTINATION ${WIPC_INSTALL_CMAKEDIR})

# --- pkg-config: wipc.pc, relocatable (paths relative to the .pc file) ----------------------------
file(RELATIVE_PATH _wipc_pc_to_prefix /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" _wipc_pc_to_prefix "${_wipc_pc_to_prefix}")
set(WIPC_PC_PREFIX "\${pcfiledir}/${_wipc_pc_to_prefix}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/wipc.pc.in ${CMAKE_CURRENT_BINARY_DIR}/wipc.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/wipc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

include(${CMAKE_CURRENT_LIST_DIR}/package.cmake)
