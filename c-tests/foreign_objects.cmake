# c-tests/foreign_objects.cmake - foreign object names and named events: the
# foreign_peer program (plain Win32 / POSIX, deliberately not linked with wipc) and the
# test_foreign_objects cmocka suite. Included by c-tests/CMakeLists.txt.
add_executable(foreign_peer ${CMAKE_CURRENT_SOURCE_DIR}/foreign_peer.c)
set_target_properties(foreign_peer PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${WIPC_TEST_OUTPUT_DIR})
if(WIN32)
  target_link_options(foreign_peer PRIVATE -static -static-libgcc)
else()
  target_link_libraries(foreign_peer PRIVATE rt)
endif()
if(NOT _cmocka_found)
  return()
endif()
wipc_test_executable(test_foreign_objects ${CMAKE_CURRENT_SOURCE_DIR}/test_foreign_objects.c)
target_link_libraries(test_foreign_objects PRIVATE wipc_cmocka)
if(NOT WIN32)
  target_link_libraries(test_foreign_objects PRIVATE rt)   # shm_open
endif()
add_dependencies(test_foreign_objects foreign_peer shm_peer)   # shm_peer: a wipc creator to kill
add_test(NAME test_foreign_objects COMMAND test_foreign_objects)
set_tests_properties(test_foreign_objects PROPERTIES TIMEOUT ${WIPC_TEST_TIMEOUT})
