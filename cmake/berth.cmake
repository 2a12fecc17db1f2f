# berth_module(NAME SOURCES ... DEPS ...): a module library berth_<NAME>.
# DEPS are the modules (or imported targets) DESIGN.md lets it call; they are
# linked PUBLIC only where the module's headers expose them.
function(berth_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PUBLIC_DEPS" ${ARGN})
  add_library(berth_${name} STATIC ${M_SOURCES})
  target_include_directories(berth_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(berth_${name} PUBLIC ${M_PUBLIC_DEPS} PRIVATE ${M_DEPS})
endfunction()

# berth_unit_test(NAME SOURCES ... LIBS ...): a GoogleTest binary beside the code.
function(berth_unit_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main)
  # Listing the tests runs the binary as a build step. The sanitizer tree
  # builds at nice 19 beside the integration tests, where a listing can wait
  # minutes for a CPU: 30 s failed a suite run on a loaded machine.
  gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 600)
endfunction()
