cerv_test(test_explain SOURCES test_explain.cpp LIBS cervirisk_explain nlohmann_json::nlohmann_json LABELS unit TORCH)
# Explanations on the real model: clinical KernelSHAP, Grad-CAM / rollout maps, overlays.
cerv_test(test_explain_model SOURCES test_explain_model.cpp LIBS cervirisk_explain PkgConfig::CAIRO LABELS unit TORCH)
