# Every third-party dependency is found here, once (Debian packages: scripts/install-deps).
find_package(Threads REQUIRED)
find_package(Torch REQUIRED)
# Torch's config adds its flags to CMAKE_CXX_FLAGS (the ABI define); keep them global so the
# non-torch libraries agree on std::string's ABI.
set(CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS} ${TORCH_CXX_FLAGS}")
# Which LibTorch was found (docs/install.md: Debian's 1.13 or an upstream 2.x via CMAKE_PREFIX_PATH).
if("${TORCH_LIBRARIES}" MATCHES "c10_cuda")
  message(STATUS "LibTorch ${Torch_VERSION} (CUDA) at ${Torch_DIR}")
else()
  message(STATUS "LibTorch ${Torch_VERSION} (CPU only) at ${Torch_DIR}")
endif()
find_package(nlohmann_json REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 QUIET)
find_package(Eigen3 REQUIRED NO_MODULE)
find_package(Boost REQUIRED)
find_package(ZLIB REQUIRED)
find_package(GDCM REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(ICU REQUIRED IMPORTED_TARGET icu-uc icu-i18n)
pkg_check_modules(CAIRO REQUIRED IMPORTED_TARGET cairo)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)  # cervirisk serve (OpenSSL, zlib, brotli)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)        # DICOM series uploaded as .zip

if(NOT TARGET CLI11::CLI11)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
endif()
# torch as an interface target with SYSTEM includes (its headers are not ours to warn about)
add_library(cerv_torch INTERFACE)
target_include_directories(cerv_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
target_link_libraries(cerv_torch INTERFACE ${TORCH_LIBRARIES})
