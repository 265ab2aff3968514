# cnnc_add_model(<target> MODEL <file.onnx|file.cnn>
#                [NAME <prefix>] [TARGET <isa>] [DIMS <name=value>...] [BIND <input=file.pb>...]
#                [OPTIONS <cnnc argument>...] [TRAIN])
#
# Compiles the model with cnnc::cnnc at build time into <prefix>.c and <prefix>.h and makes <target>, a static
# library of the generated code whose users get <prefix>.h on their include path. NAME (default: <target>) is
# the C prefix of the generated API (<prefix>_run, <prefix>_infer, <prefix>_ARENA_BYTES, ...), so two models in
# one program need two names and share no symbol. The code is generated again when the model, a BIND file or
# cnnc itself changes. TARGET becomes --target, each DIMS entry a --dim, each BIND entry a --bind (a relative
# file is taken from the current source directory), and OPTIONS are passed to cnnc as they are. TRAIN generates
# the training code instead (cnnc --train: <prefix>_train_step, <prefix>_get_param, ... besides <prefix>_run);
# its options (--batch, --optimizer, --lr, ...) go in OPTIONS.
function(cnnc_add_model target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "TRAIN" "MODEL;NAME;TARGET" "DIMS;BIND;OPTIONS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "cnnc_add_model(${target}): unexpected arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_MODEL)
    message(FATAL_ERROR "cnnc_add_model(${target}): MODEL <file.onnx|file.cnn> is required")
  endif()
  if(NOT arg_NAME)
    set(arg_NAME "${target}")
  endif()
  if(NOT arg_NAME MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "cnnc_add_model(${target}): NAME '${arg_NAME}' is not a C identifier (set NAME)")
  endif()
  get_filename_component(model "${arg_MODEL}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")

  set(dir "${CMAKE_CURRENT_BINARY_DIR}/cnnc_${target}")
  set(source "${dir}/${arg_NAME}.c")
  set(header "${dir}/${arg_NAME}.h")
  set(args "${model}" -o "${source}" --name "${arg_NAME}")
  if(arg_TARGET)
    list(APPEND args "--target=${arg_TARGET}")
  endif()
  foreach(dim IN LISTS arg_DIMS)
    list(APPEND args --dim "${dim}")
  endforeach()
  set(bound_files "")
  foreach(bind IN LISTS arg_BIND)
    if(NOT bind MATCHES "^([^=]+)=(.+)$")
      message(FATAL_ERROR "cnnc_add_model(${target}): BIND takes <input>=<file.pb>, not '${bind}'")
    endif()
    get_filename_component(file "${CMAKE_MATCH_2}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND args --bind "${CMAKE_MATCH_1}=${file}")
    list(APPEND bound_files "${file}")
  endforeach()
  if(arg_TRAIN)
    list(APPEND args --train)
  endif()
  list(APPEND args ${arg_OPTIONS})

  file(MAKE_DIRECTORY "${dir}")
  add_custom_command(
    OUTPUT "${source}" "${header}"
    COMMAND cnnc::cnnc ${args}
    DEPENDS "${model}" ${bound_files} cnnc::cnnc
    COMMENT "cnnc: compiling ${arg_MODEL} into ${arg_NAME}.c"
    VERBATIM)
  add_library(${target} STATIC "${source}" "${header}")
  target_include_directories(${target} PUBLIC "${dir}")
  set_target_properties(${target} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
  if(UNIX)
    target_link_libraries(${target} PUBLIC m)
  endif()
endfunction()
