# MRNN_SANITIZE="address;undefined" (or "address,undefined") instruments every target built after
# this point. Commas are accepted because a ';' inside one -D argument of execute_process or
# add_test is split into two arguments, and the second sanitizer is then silently lost.
if(MRNN_SANITIZE)
  set(_flags "")
  string(REPLACE "," ";" _sanitizers "${MRNN_SANITIZE}")
  foreach(s IN LISTS _sanitizers)
    list(APPEND _flags "-fsanitize=${s}")
  endforeach()
  add_compile_options(${_flags} -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(${_flags})
  # A sanitized libmrnn needs the sanitizer runtime loaded first by whatever links it: the flags
  # are part of its link interface (the exported target and mrnn.pc carry them to consumers).
  set(MRNN_SANITIZE_LINK_FLAGS ${_flags})
  message(STATUS "mrnn: sanitizers ${MRNN_SANITIZE}")
endif()
