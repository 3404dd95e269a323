# io: masks from DICOM RTSTRUCT and DICOM-SEG (fixtures: scripts/make_dicom_object_fixtures.sh)
cerv_test(test_dicom_objects SOURCES test_dicom_objects.cpp LIBS cervirisk_io nlohmann_json::nlohmann_json)
target_include_directories(test_dicom_objects PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
# `cervirisk convert` on the NRRD / MetaImage / RTSTRUCT / SEG fixtures
cerv_test(test_convert SOURCES test_convert.cpp LIBS cervirisk_io)
target_include_directories(test_convert PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
add_dependencies(test_convert cervirisk_cli)
