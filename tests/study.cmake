# Study runner (src/train/study*.cpp, cervirisk study/train/evaluate/predict): end-to-end runs of
# the real binary on a tiny synthetic cohort (label slow: several trainings).
cerv_test(test_study SOURCES test_study.cpp LIBS cervirisk_train LABELS slow TORCH)
add_dependencies(test_study cervirisk_cli)
cerv_test(test_study_cli SOURCES test_study_cli.cpp LIBS cervirisk_core LABELS unit)
add_dependencies(test_study_cli cervirisk_cli)
