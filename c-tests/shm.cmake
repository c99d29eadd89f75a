# c-tests/shm.cmake - the shm transport's tests: the shm_peer helper (also used by python-tests/test_shm.py)
# and the test_shm cmocka suite, which is skipped when cmocka was not found by c-tests/CMakeLists.txt.
wipc_test_executable(shm_peer ${CMAKE_CURRENT_SOURCE_DIR}/shm_peer.c)
if(NOT _cmocka_found)
  return()
endif()
wipc_test_executable(test_shm ${CMAKE_CURRENT_SOURCE_DIR}/test_shm.c)
target_link_libraries(test_shm PRIVATE wipc_cmocka)
if(NOT WIN32)
  target_link_libraries(test_shm PRIVATE rt)   # shm_open for the raw-mapping (corruption) test
endif()
add_dependencies(test_shm shm_peer)
add_test(NAME test_shm COMMAND test_shm)
# Cross-process stress and kill timings: keep it away from other heavy tests.
set_tests_properties(test_shm PROPERTIES TIMEOUT ${WIPC_TEST_TIMEOUT} RUN_SERIAL TRUE)
