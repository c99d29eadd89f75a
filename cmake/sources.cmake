# cmake/sources.cmake - the explicit source lists of the wipc library, one list per part. Included by
# the root CMakeLists.txt (the wipc_core OBJECT library, the shared and static libraries) and by
# fuzz/CMakeLists.txt (the fuzzers link the portable core against a stub backend).
#
# A new .c file is added to the list of its folder here, by hand: the build never globs, so a stray
# file cannot slip into the library and a removed one fails loudly. Paths are relative to dll/.
#
#   WIPC_COMMON_SOURCES   dll/common: the portable core (transports' logic, handles, dispatch, ops)
#   WIPC_LINUX_SOURCES    dll/linux: the Linux backend (AF_UNIX, memfd/shm_open, futex, epoll, eventfd)
#   WIPC_WIN32_SOURCES    dll/win32: the Win32 backend (Named Pipes, IOCP, sections, WM_COPYDATA)
#   WIPC_WIN32_DLL_SOURCES   what only wipc.dll has (DllMain, version resource): not in the static library
#   WIPC_LINUX_PORTABLE   the Linux backend's files the fuzzers' stub backend borrows (pthreads, errno texts)
#
# wipc_sources(OUT PART...) sets OUT to the absolute paths of the files of each PART
# (common | linux | win32 | win32-dll | linux-portable).

set(WIPC_COMMON_SOURCES
  common/api.c
  common/async_api.c
  common/dispatch.c
  common/error.c
  common/event.c
  common/frame.c
  common/handles.c
  common/inbox.c
  common/list.c
  common/log.c
  common/msg.c
  common/msg_send.c
  common/msg_target.c
  common/msg_wire.c
  common/object.c
  common/object_name.c
  common/op.c
  common/options.c
  common/pipe.c
  common/pipe_async.c
  common/pipe_bulk.c
  common/pipe_lenprefix.c
  common/pipe_read.c
  common/pipe_wq.c
  common/reader_role.c
  common/reply.c
  common/ring.c
  common/shm_api.c
  common/shm_async.c
  common/shm_channel.c
  common/shm_read.c
  common/shm_region.c
  common/shm_send.c
  common/shm_session.c
  common/shm_stream.c
  common/stats.c
  common/stats_read.c
)

set(WIPC_LINUX_SOURCES
  linux/error.c
  linux/event.c
  linux/list.c
  linux/loop.c
  linux/memfd.c
  linux/msg_pool.c
  linux/msg_recv.c
  linux/msg_send.c
  linux/pipe.c
  linux/pipe_bulk.c
  linux/pipe_write_async.c
  linux/proc_watch.c
  linux/rundir.c
  linux/shm.c
  linux/shutdown.c
  linux/sync.c
)

set(WIPC_WIN32_SOURCES
  win32/error.c
  win32/event.c
  win32/iocp.c
  win32/list.c
  win32/msg_send.c
  win32/msg_window.c
  win32/pipe.c
  win32/pipe_bulk.c
  win32/pipe_listen.c
  win32/pipe_write_async.c
  win32/security.c
  win32/shm.c
  win32/sync.c
  win32/util.c
)

set(WIPC_WIN32_DLL_SOURCES
  win32/dllmain.c
  win32/wipc.rc
)

set(WIPC_LINUX_PORTABLE
  linux/sync.c
  linux/error.c
)

set(WIPC_SOURCE_DIR ${CMAKE_CURRENT_LIST_DIR}/../dll)
get_filename_component(WIPC_SOURCE_DIR ${WIPC_SOURCE_DIR} ABSOLUTE)

function(wipc_sources out)
  set(_files "")
  foreach(_part ${ARGN})
    if(_part STREQUAL "common")
      list(APPEND _files ${WIPC_COMMON_SOURCES})
    elseif(_part STREQUAL "linux-portable")
      list(APPEND _files ${WIPC_LINUX_PORTABLE})
    elseif(_part STREQUAL "linux")
      list(APPEND _files ${WIPC_LINUX_SOURCES})
    elseif(_part STREQUAL "win32")
      list(APPEND _files ${WIPC_WIN32_SOURCES})
    elseif(_part STREQUAL "win32-dll")
      list(APPEND _files ${WIPC_WIN32_DLL_SOURCES})
    else()
      message(FATAL_ERROR "wipc_sources: unknown part '${_part}' (common | linux | win32 | win32-dll | linux-portable)")
    endif()
  endforeach()
  list(TRANSFORM _files PREPEND ${WIPC_SOURCE_DIR}/)
  set(${out} ${_files} PARENT_SCOPE)
endfunction()
