# Compiles BPF C (*.bpf.c) with the machine's clang as libbpf users do:
#   clang -target bpf -mcpu=v3 -O2 -g -D__TARGET_ARCH_x86 -I<multiarch> -Ibpf/include -c x.bpf.c
# against libbpf-dev's headers (<bpf/bpf_helpers.h>, ...). Objects land in ${CMAKE_BINARY_DIR}/bpf
# under the source's path relative to the source tree, and rebuild when a header they include
# changes (depfiles).
#
# It also builds the model's BTF: mmbpf_vmlinux_btf() compiles a C file that includes
# bpf/include/vmlinux.h with the same flags and extracts its .BTF section into a raw blob, which
# the runtime embeds (src/bpf/vmlinux_btf.cpp) and tools/btf_layout_gen checks against C++.

find_program(MMBPF_BPF_CLANG NAMES clang-14 clang REQUIRED)
find_program(MMBPF_LLVM_OBJCOPY NAMES llvm-objcopy-14 llvm-objcopy REQUIRED)
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

# mmbpf_vmlinux_btf(OUT_VAR SRC): compiles SRC (bpf/include/vmlinux_btf.c) for BPF and dumps its
# .BTF section to ${MMBPF_BPF_OBJ_DIR}/vmlinux.btf, the path returned in OUT_VAR. The blob is
# rebuilt when SRC or a header it includes (vmlinux.h) changes. The target vmlinux_btf builds it.
function(mmbpf_vmlinux_btf out_var src)
  set(obj ${MMBPF_BPF_OBJ_DIR}/vmlinux_btf.o)
  set(blob ${MMBPF_BPF_OBJ_DIR}/vmlinux.btf)
  add_custom_command(
    OUTPUT ${blob}
    BYPRODUCTS ${obj} ${obj}.stripped
    COMMAND ${CMAKE_COMMAND} -E make_directory ${MMBPF_BPF_OBJ_DIR}
    COMMAND ${MMBPF_BPF_CLANG} ${MMBPF_BPF_CFLAGS} -MD -MF ${obj}.d -MT ${blob} -c ${src} -o ${obj}
    # llvm-objcopy writes an output object too; it is a throwaway copy.
    COMMAND ${MMBPF_LLVM_OBJCOPY} --dump-section .BTF=${blob} ${obj} ${obj}.stripped
    DEPENDS ${src}
    DEPFILE ${obj}.d
    COMMENT "BTF of the model (vmlinux.h)"
    VERBATIM)
  add_custom_target(vmlinux_btf DEPENDS ${blob})
  set(${out_var} ${blob} PARENT_SCOPE)
endfunction()
