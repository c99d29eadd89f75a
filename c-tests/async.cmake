# async.cmake - the asynchronous-operation tests (ABI 1.1): test_async (cmocka) and its
# helper async_peer (error-server, noread, error-client); it also uses wipc_peer. Included at the
# end of c-tests/CMakeLists.txt; uses its wipc_test_executable() and WIPC_TEST_TIMEOUT. Runs under
# Wine too (ctest in build/win64).
wipc_test_executable(async_peer async_peer.c)
if(TARGET wipc_cmocka)
  wipc_test_executable(test_async test_async.c)
  target_link_libraries(test_async PRIVATE wipc_cmocka)
  add_dependencies(test_async async_peer wipc_peer shm_peer)
  add_test(NAME test_async COMMAND test_async)
  # spawns 100 peers and measures cancel latency: keep it away from other heavy tests
  set_tests_properties(test_async PROPERTIES TIMEOUT ${WIPC_TEST_TIMEOUT} RUN_SERIAL TRUE)
endif()

# test_pipe_writebehind: WIPC_PIPE_WRITE_BEHIND and wipc_flush with async_peer
# slow-reader and wipc_peer hold / echo-server
if(TARGET wipc_cmocka)
  wipc_test_executable(test_pipe_writebehind test_pipe_writebehind.c)
  target_link_libraries(test_pipe_writebehind PRIVATE wipc_cmocka)
  add_dependencies(test_pipe_writebehind async_peer wipc_peer)
  add_test(NAME test_pipe_writebehind COMMAND test_pipe_writebehind)
  set_tests_properties(test_pipe_writebehind PROPERTIES TIMEOUT ${WIPC_TEST_TIMEOUT})
endif()
