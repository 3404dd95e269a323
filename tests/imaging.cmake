# imaging: resampling, normalisation, multi-scale crops, augmentation, cache
# (goldens: scripts/make_imaging_goldens.py, reference: scripts/preprocess_reference.py)
cerv_test(test_imaging SOURCES test_imaging.cpp LIBS cervirisk_imaging cervirisk_data nlohmann_json::nlohmann_json)
