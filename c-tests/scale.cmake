# c-tests/scale.cmake - test_scale: a pipe server with WIPC_PIPE_UNLIMITED_INSTANCES holds more than 255
# connections, a lower max_instances is still enforced. Both targets (Wine too).
if(NOT _cmocka_found)
  return()
endif()
wipc_test_executable(test_scale ${CMAKE_CURRENT_SOURCE_DIR}/test_scale.c)
target_link_libraries(test_scale PRIVATE wipc_cmocka)
add_test(NAME test_scale COMMAND test_scale)
set_tests_properties(test_scale PROPERTIES TIMEOUT ${WIPC_TEST_TIMEOUT})
