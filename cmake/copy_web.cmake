# Copies the viewer's files into OUT (run at build time by src/serve/CMakeLists.txt): ours from
# WEB, NiiVue's bundle from WEB/node_modules when scripts/install-deps installed it.
file(MAKE_DIRECTORY ${OUT})
file(COPY ${WEB}/index.html ${WEB}/viewer.js DESTINATION ${OUT})
set(niivue ${WEB}/node_modules/@niivue/niivue/dist/niivue.umd.js)
if(EXISTS ${niivue})
  file(COPY ${niivue} DESTINATION ${OUT})
else()
  message(WARNING "NiiVue is not installed (scripts/install-deps): the viewer page will say so")
endif()
