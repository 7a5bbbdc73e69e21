// How many HDF5 objects (files, groups, datasets, types, attributes) are open in the process: the
// checkpoint targets require none left after each input, accepted or refused. LeakSanitizer
// cannot see a handle left open (libhdf5 keeps it reachable), and is told to ignore what libhdf5
// itself allocates (scripts/fuzz.sh): this is the check that a reader's handle is always closed.
#pragma once

#include <hdf5.h>

namespace aeflow::fuzz {

inline ssize_t hdf5_objects_open() {
  return H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
}

}  // namespace aeflow::fuzz
