# Compiles BPF C (*.bpf.c) with the machine's clang as libbpf users do:
#   clang -target bpf -mcpu=v3 -O2 -g -D__TARGET_ARCH_x86 -I<multiarch> -Ibpf/include -c x.bpf.c
# against libbpf-dev's headers (<bpf/bpf_helpers.h>, ...). Objects land in ${CMAKE_BINARY_DIR}/bpf
# under the source's path relative to the source tree, and rebuild when a header they include
# changes (depfiles).

find_program(MMBPF_BPF_CLANG NAMES clang-14 clang REQUIRED)
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch OUTPUT_VARIABLE MMBPF_MULTIARCH
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT MMBPF_MULTIARCH)
  set(MMBPF_MULTIARCH x86_64-linux-gnu)
endif()
set(MMBPF_BPF_CFLAGS -target bpf -mcpu=v3 -O2 -g -Wall -Wno-unused-function
    -D__TARGET_ARCH_x86 -I/usr/include/${MMBPF_MULTIARCH} -I${CMAKE_SOURCE_DIR}/bpf/include)
set(MMBPF_BPF_OBJ_DIR ${CMAKE_BINARY_DIR}/bpf)

# mmbpf_bpf_objects(TARGET GLOB...): a target that builds every *.bpf.c matching the globs.
function(mmbpf_bpf_objects target)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${ARGN})
  set(objs)
  foreach(src ${srcs})
    file(RELATIVE_PATH rel ${CMAKE_SOURCE_DIR} ${src})
    string(REGEX REPLACE "\\.c$" ".o" rel_o ${rel})
    set(obj ${MMBPF_BPF_OBJ_DIR}/${rel_o})
    get_filename_component(obj_dir ${obj} DIRECTORY)
    add_custom_command(
      OUTPUT ${obj}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${obj_dir}
      COMMAND ${MMBPF_BPF_CLANG} ${MMBPF_BPF_CFLAGS} -MD -MF ${obj}.d -c ${src} -o ${obj}
      DEPENDS ${src}
      DEPFILE ${obj}.d
      COMMENT "BPF ${rel}"
      VERBATIM)
    list(APPEND objs ${obj})
  endforeach()
  add_custom_target(${target} ALL DEPENDS ${objs})
endfunction()
