# Driven by CTest (see tests/Consumer.cmake). Installs mrnn into a scratch prefix, then builds and
# runs the outside program main.cpp twice: through find_package(mrnn) (CMakeLists.txt here) and
# through pkg-config alone (the flags `pkg-config --cflags --libs mrnn` prints, nothing else).
# The find_package build also compiles every installed header on its own, and builds and runs
# every complete program (a ```cpp block with a main) of DOCS (docs/library.md).
# Fails on the first step that fails.
file(REMOVE_RECURSE ${WORK_DIR})
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer step failed: ${ARGN}\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()
set(prefix ${WORK_DIR}/prefix)
step(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# The docs' programs: every ```cpp block that defines main().
set(snippets ${WORK_DIR}/snippets)
file(MAKE_DIRECTORY ${snippets})
set(snippet_names "")
if(DOCS)
  # awk, not CMake strings: C++ is full of ';', which CMake would take for list separators.
  set(extract [=[
/^```cpp$/ {
  inb = 1
  buf = ""
  next
}
/^```$/ {
  if (inb && buf ~ /int main\(/) {
    k++
    f = dir "/snippet_" k ".cpp"
    printf "%s", buf > f
    close(f)
  }
  inb = 0
  next
}
inb { buf = buf $0 "\n" }
]=])  # no ';' in it: CMake would split the program at each one
  step(awk -v dir=${snippets} "${extract}" ${DOCS})
  file(GLOB found RELATIVE ${snippets} ${snippets}/snippet_*.cpp)
  if(NOT found)
    message(FATAL_ERROR "consumer: ${DOCS} has no complete program to check")
  endif()
  foreach(f IN LISTS found)
    string(REGEX REPLACE "\\.cpp$" "" n "${f}")
    list(APPEND snippet_names ${n})
  endforeach()
endif()
step(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
     -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX}
     -DMRNN_HEADER_ROOT=${prefix}/include -DMRNN_SNIPPET_DIR=${snippets})
step(${CMAKE_COMMAND} --build ${WORK_DIR}/build --parallel 2)
step(${WORK_DIR}/build/consumer)
# A small trained model and one of its images, for the docs programs that take MODEL_DIR IMAGE.
set(bin ${BUILD_DIR}/examples)
if(NOT EXISTS ${bin}/make_shapes OR NOT EXISTS ${bin}/caption_train)
  message(FATAL_ERROR "consumer: ${bin}/make_shapes and caption_train are needed for the docs programs (MRNN_EXAMPLES=ON)")
endif()
step(${bin}/make_shapes --out ${WORK_DIR}/shapes --seed 3 --train 40 --val 8 --test 8 --novel 0)
step(${bin}/caption_train --data ${WORK_DIR}/shapes/dataset_shapes.json --images ${WORK_DIR}/shapes/images
     --out ${WORK_DIR}/model --max-steps 4 --batch 8 --val-images 4 --embed1 16 --embed2 16 --rnn-size 16
     --multimodal 16 --image-dim 16 --quiet)
file(GLOB images ${WORK_DIR}/shapes/images/*.png)
list(SORT images)
list(GET images 0 image)
foreach(name IN LISTS snippet_names)
  execute_process(COMMAND ${WORK_DIR}/build/${name} ${WORK_DIR}/model ${image} WORKING_DIRECTORY ${WORK_DIR} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    file(READ ${snippets}/${name}.cpp code)
    message(FATAL_ERROR "consumer: the docs program ${name} (from ${DOCS}) failed (${rc}):\n${out}\n${err}\n--- its code:\n${code}")
  endif()
endforeach()

# pkg-config: the .pc file must locate the prefix from where it lies.
file(GLOB_RECURSE pc ${prefix}/*/mrnn.pc)
if(NOT pc)
  message(FATAL_ERROR "consumer: no mrnn.pc installed under ${prefix}")
endif()
get_filename_component(pcdir "${pc}" DIRECTORY)
get_filename_component(libdir "${pcdir}" DIRECTORY)
step(${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${pcdir} pkg-config --cflags --libs mrnn)
string(STRIP "${step_output}" flags)
separate_arguments(flags UNIX_COMMAND "${flags}")
step(${CXX} -std=c++17 ${SOURCE_DIR}/main.cpp ${flags} -o ${WORK_DIR}/consumer-pkg-config)
step(${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${libdir} ${WORK_DIR}/consumer-pkg-config)
