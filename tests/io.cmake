# io: NIfTI, DICOM, Volume geometry (goldens: scripts/make_io_goldens.py)
cerv_test(test_volume SOURCES test_volume.cpp LIBS cervirisk_io)
cerv_test(test_nifti SOURCES test_nifti.cpp LIBS cervirisk_io nlohmann_json::nlohmann_json)
target_include_directories(test_nifti PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
cerv_test(test_dicom SOURCES test_dicom.cpp LIBS cervirisk_io nlohmann_json::nlohmann_json)
target_include_directories(test_dicom PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})


add_dependencies(test_nifti cervirisk_cli)
add_dependencies(test_dicom cervirisk_cli)
