# cmake/flags.cmake - the compiler flags of wipc's own targets, given per target (no global
# add_compile_options: a project that add_subdirectory()s wipc keeps its own flags).
#
#   WIPC_WERROR=ON               -Werror on top of the warnings
#   WIPC_SANITIZE=<list>         -fsanitize=<list> (address,undefined | thread) at compile and link time
#                                on every target of the build, so instrumented tests link the runtime
#
#   wipc_apply_flags(TARGET...)           warnings (+ sanitizers) on these targets
#   wipc_apply_flags_in_dir(DIR)          the same on every compiled target defined in DIR and below
#                                         (c-tests/, tools/, bench/, bindings/: their files need no edit
#                                         when a helper program or suite is added)
set(WIPC_WARNING_OPTIONS -Wall -Wextra -Wshadow -Wno-unused-parameter)
if(WIPC_WERROR)
  list(APPEND WIPC_WARNING_OPTIONS -Werror)
endif()
set(WIPC_SANITIZE_COMPILE_OPTIONS "")
set(WIPC_SANITIZE_LINK_OPTIONS "")
if(WIPC_SANITIZE)
  set(WIPC_SANITIZE_COMPILE_OPTIONS -fsanitize=${WIPC_SANITIZE} -fno-omit-frame-pointer)
  set(WIPC_SANITIZE_LINK_OPTIONS -fsanitize=${WIPC_SANITIZE})
endif()

function(wipc_apply_flags)
  foreach(_t ${ARGN})
    get_target_property(_type ${_t} TYPE)
    if(_type MATCHES "^(EXECUTABLE|STATIC_LIBRARY|SHARED_LIBRARY|MODULE_LIBRARY|OBJECT_LIBRARY)$")
      # BEFORE: a target's own options (a -Wno-... of generated code) still come after these
      target_compile_options(${_t} BEFORE PRIVATE ${WIPC_WARNING_OPTIONS} ${WIPC_SANITIZE_COMPILE_OPTIONS})
      if(WIPC_SANITIZE_LINK_OPTIONS AND NOT _type MATCHES "^(STATIC_LIBRARY|OBJECT_LIBRARY)$")
        target_link_options(${_t} PRIVATE ${WIPC_SANITIZE_LINK_OPTIONS})
      endif()
    endif()
  endforeach()
endfunction()

function(wipc_apply_flags_in_dir dir)
  get_property(_targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  wipc_apply_flags(${_targets})
  get_property(_subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(_d ${_subdirs})
    wipc_apply_flags_in_dir(${_d})
  endforeach()
endfunction()
