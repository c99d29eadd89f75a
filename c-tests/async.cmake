# async.cmake - the asynchronous-operation tests (DESIGN 5, ABI 1.1): test_async (cmocka) and its
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
