# ctest driver: installs the build tree into a scratch prefix and builds tests/consumer against
# it (MODE=install), or builds tests/consumer with add_subdirectory on the sources
# (MODE=subdirectory); then runs the consumer. Arguments: BUILD_DIR, SOURCE_DIR, WORK_DIR, MODE.
file(REMOVE_RECURSE ${WORK_DIR})
set(consumer_args)
if(MODE STREQUAL "install")
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                  RESULT_VARIABLE result OUTPUT_QUIET)
  if(result)
    message(FATAL_ERROR "install failed: ${result}")
  endif()
  set(consumer_args -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
else()
  set(consumer_args -DRVAE_SOURCE_DIR=${SOURCE_DIR} -DRVAE_BUILD_CLI=OFF)
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build
                        -DCMAKE_BUILD_TYPE=Release ${consumer_args}
                RESULT_VARIABLE result)
if(result)
  message(FATAL_ERROR "configuring the consumer failed: ${result}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2 RESULT_VARIABLE result)
if(result)
  message(FATAL_ERROR "building the consumer failed: ${result}")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer RESULT_VARIABLE result OUTPUT_VARIABLE out)
message(STATUS "${out}")
if(result OR NOT out MATCHES "consumer ok")
  message(FATAL_ERROR "the consumer failed: ${result}")
endif()
