# MRNN_SANITIZE="address;undefined" instruments every target built after this point.
if(MRNN_SANITIZE)
  set(_flags "")
  foreach(s IN LISTS MRNN_SANITIZE)
    list(APPEND _flags "-fsanitize=${s}")
  endforeach()
  add_compile_options(${_flags} -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(${_flags})
  # A sanitized libmrnn needs the sanitizer runtime loaded first by whatever links it: the flags
  # are part of its link interface (the exported target and mrnn.pc carry them to consumers).
  set(MRNN_SANITIZE_LINK_FLAGS ${_flags})
  message(STATUS "mrnn: sanitizers ${MRNN_SANITIZE}")
endif()
