# Trainer tests (src/train). The resume test runs train_resume_helper in child processes and
# kills one with SIGKILL.
add_executable(train_resume_helper train_resume_helper.cpp)
target_link_libraries(train_resume_helper PRIVATE cervirisk_train)
cerv_warnings(train_resume_helper)
cerv_torch_pch(train_resume_helper)

cerv_test(test_train SOURCES test_train_losses.cpp test_train_schedule.cpp test_train_loader.cpp
          test_train_trainer.cpp test_train_sharded.cpp LIBS cervirisk_train TORCH)
target_compile_definitions(test_train PRIVATE CERV_TRAIN_HELPER="$<TARGET_FILE:train_resume_helper>")
add_dependencies(test_train train_resume_helper)
