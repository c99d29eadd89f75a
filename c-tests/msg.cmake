# msg.cmake - the window-message (msg) transport's tests: test_msg (cmocka) and its helper msg_peer.
# Included at the end of c-tests/CMakeLists.txt; uses its wipc_test_executable() and WIPC_TEST_TIMEOUT.
wipc_test_executable(msg_peer msg_peer.c)
if(TARGET wipc_cmocka)
  wipc_test_executable(test_msg test_msg.c)
  target_link_libraries(test_msg PRIVATE wipc_cmocka)
  add_dependencies(test_msg msg_peer)
  add_test(NAME test_msg COMMAND test_msg)
  # spawns processes and uses fixed timings (a sleeping receiver): keep it away from other heavy tests
  set_tests_properties(test_msg PROPERTIES TIMEOUT ${WIPC_TEST_TIMEOUT} RUN_SERIAL TRUE)
endif()
if(TARGET wipc_cmocka)
  # wipc_list across processes (ABI 1.1); the program is its own peer (`test_list peer NAME`)
  wipc_test_executable(test_list test_list.c)
  target_link_libraries(test_list PRIVATE wipc_cmocka)
  add_test(NAME test_list COMMAND test_list)
  set_tests_properties(test_list PROPERTIES TIMEOUT ${WIPC_TEST_TIMEOUT})
endif()
if(TARGET wipc_cmocka)
  # msg raw mode: plain WM_COPYDATA / seqpacket peers; the program is its own foreign peer
  # (`test_msg_raw send ...`, `test_msg_raw serve ...`: plain Win32 / POSIX code, no wipc calls)
  wipc_test_executable(test_msg_raw test_msg_raw.c)
  target_link_libraries(test_msg_raw PRIVATE wipc_cmocka)
  if(WIN32)
    target_link_libraries(test_msg_raw PRIVATE user32)   # the plain WM_COPYDATA peer
  endif()
  add_test(NAME test_msg_raw COMMAND test_msg_raw)
  set_tests_properties(test_msg_raw PROPERTIES TIMEOUT ${WIPC_TEST_TIMEOUT})
endif()
