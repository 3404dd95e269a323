# The fuzz targets: fuzz_<name>.cpp with the libraries it reads through. Included by
# tests/fuzz/CMakeLists.txt (the libFuzzer build, `make fuzz`) and by tests/fuzz.cmake (every
# corpus and regression input replayed as a unit test in the normal build).
set(CERV_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
set(CERV_FUZZ_TARGETS
  nifti nifti_gz dicom dicom_objects nrrd metaimage mask safetensors
  csv manifest config tokenizer runfolder zip)
set(CERV_FUZZ_LIBS_nifti cervirisk_io)
set(CERV_FUZZ_LIBS_nifti_gz cervirisk_io)
set(CERV_FUZZ_LIBS_dicom cervirisk_io)
set(CERV_FUZZ_LIBS_dicom_objects cervirisk_io)
set(CERV_FUZZ_LIBS_nrrd cervirisk_io)
set(CERV_FUZZ_LIBS_metaimage cervirisk_io)
set(CERV_FUZZ_LIBS_mask cervirisk_io)
set(CERV_FUZZ_LIBS_safetensors cervirisk_io)
set(CERV_FUZZ_LIBS_csv cervirisk_io)
set(CERV_FUZZ_LIBS_manifest cervirisk_data)
set(CERV_FUZZ_LIBS_config cervirisk_core cervirisk_io)
set(CERV_FUZZ_LIBS_tokenizer cervirisk_text cervirisk_io)
set(CERV_FUZZ_LIBS_runfolder cervirisk_runfolder)
# upload.cpp alone (the serve library would bring LibTorch): libzip and the core.
set(CERV_FUZZ_LIBS_zip cervirisk_io PkgConfig::LIBZIP)
set(CERV_FUZZ_SOURCES_zip ${PROJECT_SOURCE_DIR}/src/serve/upload.cpp)

# cerv_fuzz_executable(target name [extra sources...]): the harness and its libraries.
function(cerv_fuzz_executable target name)
  add_executable(${target} ${CERV_FUZZ_DIR}/fuzz_${name}.cpp ${CERV_FUZZ_SOURCES_${name}} ${ARGN})
  target_link_libraries(${target} PRIVATE ${CERV_FUZZ_LIBS_${name}})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src ${CERV_FUZZ_DIR})
  target_compile_definitions(${target} PRIVATE CERV_TEST_DATA="${PROJECT_SOURCE_DIR}/tests/data")
  cerv_warnings(${target})
endfunction()
