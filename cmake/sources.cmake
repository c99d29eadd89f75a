# cmake/sources.cmake - the explicit source lists of the wipc library, one list per part. Included by
# the root CMakeLists.txt (the wipc_core OBJECT library, the shared and static libraries) and by
# fuzz/CMakeLists.txt (the fuzzers link the portable core against a stub backend).
#
# A new .c file is added to the list of its folder here, by hand: the build never globs, so a stray
# file cannot slip into the library and a removed one fails loudly. Paths are relative to dll/.
#
#   WIPC_COMMON_SOURCES   dll/common: the portable core, grouped core/ (handles, dispatch, ops), pipe/, shm/, msg/
#   WIPC_LINUX_SOURCES    dll/linux: the Linux backend (AF_UNIX, memfd/shm_open, futex, epoll, eventfd)
#   WIPC_WIN32_SOURCES    dll/win32: the Win32 backend (Named Pipes, IOCP, sections, WM_COPYDATA)
#   WIPC_WIN32_DLL_SOURCES   what only wipc.dll has (DllMain, version resource): not in the static library
#   WIPC_LINUX_PORTABLE   the Linux backend's files the fuzzers' stub backend borrows (pthreads, errno texts)
#
# wipc_sources(OUT PART...) sets OUT to the absolute paths of the files of each PART
# (common | linux | win32 | win32-dll | linux-portable).

set(WIPC_COMMON_SOURCES
  # common/core/: handles, options, errors, logging, dispatch, inbox, async ops, events, listing, stats, frame codec
  common/core/api.c
  common/core/async_api.c
  common/core/dispatch.c
  common/core/error.c
  common/core/event.c
  common/core/frame.c
  common/core/handles.c
  common/core/inbox.c
  common/core/list.c
  common/core/log.c
  common/core/object.c
  common/core/object_name.c
  common/core/op.c
  common/core/options.c
  common/core/pool.c
  common/core/reader_role.c
  common/core/reply.c
  common/core/stats.c
  common/core/stats_read.c
  # common/pipe/: the pipe transport
  common/pipe/pipe.c
  common/pipe/pipe_async.c
  common/pipe/pipe_bulk.c
  common/pipe/pipe_conn.c
  common/pipe/pipe_connect.c
  common/pipe/pipe_lenprefix.c
  common/pipe/pipe_read.c
  common/pipe/pipe_send.c
  common/pipe/pipe_wq.c
  # common/shm/: the shm transport (sections, rings, channels, streams)
  common/shm/ring.c
  common/shm/shm_api.c
  common/shm/shm_async.c
  common/shm/shm_channel.c
  common/shm/shm_read.c
  common/shm/shm_region.c
  common/shm/shm_send.c
  common/shm/shm_session.c
  common/shm/shm_stream.c
  # common/msg/: the window-message transport
  common/msg/msg.c
  common/msg/msg_send.c
  common/msg/msg_target.c
  common/msg/msg_wire.c
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
