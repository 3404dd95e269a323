# Warnings for our own targets only (third-party headers are included as SYSTEM).
function(cerv_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()
