# Fails (FATAL_ERROR) when a file of ROOT's src/ or include/aeflow/ includes what its module may
# not: another module's header that is not below it, or a library's header outside the module
# that owns it (mpi.h in mpi, HDF5 in io, Boost.Program_options in cli, ...). The build runs it
# before compiling anything, so a wrong include fails the build, whatever include paths allow.
#
#   cmake -D ROOT=DIR [-D STAMP=FILE] -P scripts/check-layering.cmake
#
cmake_minimum_required(VERSION 3.22)

# The modules, each with the modules it may use (everything below it in the layering).
set(uses_base "")
set(uses_data base)
set(uses_model base data)
set(uses_mpi base)
set(uses_io base data model mpi)
set(uses_eval base data model mpi io)
set(uses_infer base data model mpi io eval)
set(uses_train base data model mpi io eval)
set(uses_sweep base data model mpi io eval train)
set(uses_cli base data model mpi io eval infer train sweep)
set(modules base data model mpi io eval infer train sweep cli)
# Library headers (regular expressions) and the files allowed to include them.
set(library_headers "mpi\\.h" "hdf5\\.h|H5[A-Za-z]*\\.h" "boost/program_options" "Eigen/"
                    "oneapi/dnnl/" "zlib\\.h")
set(library_owners "^src/mpi/|^src/io/hdf5\\.cpp$|^src/cli/main\\.cpp$" "^src/io/" "^src/cli/"
                   "^src/eval/" "^src/model/" "^src/data/")

if(NOT ROOT)
  message(FATAL_ERROR "check-layering.cmake: pass -D ROOT=the source tree")
endif()
file(GLOB_RECURSE files RELATIVE "${ROOT}" "${ROOT}/src/*.cpp" "${ROOT}/src/*.hpp"
     "${ROOT}/include/aeflow/*.hpp")
set(problems "")
foreach(file IN LISTS files)
  if(file MATCHES "^src/([a-z_]+)/")
    set(module "${CMAKE_MATCH_1}")
  elseif(file MATCHES "^include/aeflow/([a-z_]+)/")
    set(module "${CMAKE_MATCH_1}")
  else()
    string(APPEND problems "\n  ${file}: not in a module's folder")
    continue()
  endif()
  if(NOT module IN_LIST modules)
    string(APPEND problems "\n  ${file}: '${module}' is no module (${modules})")
    continue()
  endif()
  file(STRINGS "${ROOT}/${file}" includes REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS includes)
    if(line MATCHES "include[ \t]*[<\"]aeflow/([a-z_]+)/")
      set(used "${CMAKE_MATCH_1}")
      if(NOT used STREQUAL module AND NOT used IN_LIST uses_${module})
        string(APPEND problems
               "\n  ${file}: ${module} may not use ${used} (${module} uses: ${uses_${module}})")
      endif()
    endif()
    list(LENGTH library_headers count)
    math(EXPR last "${count} - 1")
    foreach(i RANGE ${last})
      list(GET library_headers ${i} header)
      list(GET library_owners ${i} owners)
      if(line MATCHES "include[ \t]*<([^>]*)>" AND CMAKE_MATCH_1 MATCHES "^(${header})")
        set(found "${CMAKE_MATCH_0}")
        if(NOT file MATCHES "${owners}")
          string(REGEX REPLACE "[$^\\]" "" readable "${owners}")
          string(REPLACE "|" ", " readable "${readable}")
          string(APPEND problems "\n  ${file}: <${found}> only in ${readable}")
        endif()
      endif()
    endforeach()
  endforeach()
endforeach()
if(problems)
  message(FATAL_ERROR "includes that break the layering (docs/architecture.md):${problems}")
endif()
if(STAMP)
  file(WRITE "${STAMP}" "")
endif()
