# def-to-version-script.cmake: turns wipc.def (the export ledger) into a GNU ld version script.
#   cmake -DDEF=wipc.def -DOUT=wipc.map -P def-to-version-script.cmake
include(${CMAKE_CURRENT_LIST_DIR}/wipc-def.cmake)
wipc_read_def("${DEF}" _names)
set(_syms "")
foreach(_sym IN LISTS _names)
  string(APPEND _syms "    ${_sym};\n")
endforeach()
file(WRITE "${OUT}.tmp" "WIPC_1 {\n  global:\n${_syms}  local: *;\n};\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
