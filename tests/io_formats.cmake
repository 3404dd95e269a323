# io: NRRD (teem) and MetaImage readers against plastimatch / 3D Slicer layouts
# (fixtures: scripts/make_format_fixtures.py -> tests/data/formats)
cerv_test(test_io_nrrd SOURCES test_io_nrrd.cpp LIBS cervirisk_io ZLIB::ZLIB)
target_include_directories(test_io_nrrd PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
