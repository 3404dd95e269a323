# Study runner (src/study, cervirisk study/train/evaluate/predict): end-to-end runs of
# the real binary on a tiny synthetic cohort (label slow: several trainings).
cerv_test(test_study SOURCES test_study.cpp LIBS cervirisk_study LABELS slow TORCH)
add_dependencies(test_study cervirisk_cli)
cerv_test(test_study_cli SOURCES test_study_cli.cpp LIBS cervirisk_core LABELS unit)
add_dependencies(test_study_cli cervirisk_cli)
# Steps of the study on their own (src/study/steps.h).
cerv_test(test_study_steps SOURCES test_study_steps.cpp LIBS cervirisk_study LABELS unit TORCH)
# The REST service (src/serve) through real HTTP on localhost.
cerv_test(test_serve SOURCES test_serve.cpp LIBS cervirisk_core PkgConfig::HTTPLIB PkgConfig::LIBZIP ZLIB::ZLIB LABELS unit)
add_dependencies(test_serve cervirisk_cli)
# bench/soak.sh for one minute on a small study (the 10-minute run: docs/service.md "Soak").
add_test(NAME ServeSoak.OneMinute COMMAND bash ${PROJECT_SOURCE_DIR}/bench/soak.sh 60 ${PROJECT_BINARY_DIR})
set_tests_properties(ServeSoak.OneMinute PROPERTIES LABELS slow TIMEOUT 1200
                     ENVIRONMENT "SOAK_PATIENTS=40;SOAK_EPOCHS=1;SOAK_PRETRAIN_EPOCHS=0")
cerv_test(test_serve_browser SOURCES test_serve_browser.cpp LIBS cervirisk_core PkgConfig::HTTPLIB LABELS slow)
add_dependencies(test_serve_browser cervirisk_cli cervirisk_web)
