# Checks a client-only rvae (-DRVAE_CLI_SERVER_COMMANDS=OFF), run by ctest:
#   cmake -DRVAE=<rvae binary> -DCHECK=<command>|help|libraries [-DFLAG=<flag>] [-DLDD=<ldd>]
#         -P client_only.cmake
# <command> (serve, demo, ...): exits with status 2 and names FLAG, the flag it was built with.
# help: --help lists the client commands and none of the server ones.
# libraries: the binary does not load libmicrohttpd (the point of a client-only build).
cmake_minimum_required(VERSION 3.16)
set(server_commands serve demo bench tile-bench)

if(CHECK STREQUAL "help")
  execute_process(COMMAND ${RVAE} --help RESULT_VARIABLE status OUTPUT_VARIABLE out)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "rvae --help exited with ${status}")
  endif()
  foreach(command decode encode preview presets)
    if(NOT out MATCHES "\n  ${command} ")
      message(FATAL_ERROR "rvae --help does not list ${command}:\n${out}")
    endif()
  endforeach()
  foreach(command IN LISTS server_commands)
    if(out MATCHES "\n  ${command} ")
      message(FATAL_ERROR "rvae --help lists ${command}, which this build leaves out:\n${out}")
    endif()
  endforeach()
elseif(CHECK STREQUAL "libraries")
  execute_process(COMMAND ${LDD} ${RVAE} RESULT_VARIABLE status OUTPUT_VARIABLE out)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "ldd ${RVAE} exited with ${status}")
  endif()
  if(out MATCHES "libmicrohttpd")
    message(FATAL_ERROR "the client-only rvae loads libmicrohttpd:\n${out}")
  endif()
elseif(CHECK IN_LIST server_commands)
  execute_process(COMMAND ${RVAE} ${CHECK} --help RESULT_VARIABLE status
    OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 2)
    message(FATAL_ERROR "rvae ${CHECK} exited with ${status}, not 2:\n${out}${err}")
  endif()
  string(CONCAT expected "rvae ${CHECK}: this rvae was built without the server commands "
    "(${FLAG})")
  string(FIND "${err}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "rvae ${CHECK}: expected \"${expected}\" on stderr, got:\n${err}")
  endif()
else()
  message(FATAL_ERROR "unknown CHECK '${CHECK}'")
endif()
